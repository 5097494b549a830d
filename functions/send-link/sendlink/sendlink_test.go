package sendlink_test

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"bandarchive/functions"
	"bandarchive/shared/apptest"
	"bandarchive/shared/db"
	"bandarchive/shared/mail/mailersendfake"
	"bandarchive/shared/routes"
)

// answer is what a client can observe of a response, minus what differs on
// every request anyway (its id and date).
func answer(r apptest.Response) string {
	var lines []string
	for k, vs := range r.Header {
		if k == "X-Request-Id" || k == "Date" {
			continue
		}
		lines = append(lines, k+": "+strings.Join(vs, ","))
	}
	slices.Sort(lines)
	return fmt.Sprintf("%d\n%s\n\n%s", r.Status, strings.Join(lines, "\n"), r.Body)
}

func TestSendLinkAnswersMembersAndStrangersAlike(t *testing.T) {
	mailersendDown := []mailersendfake.Reply{{Status: 500}, {Status: 500}, {Status: 500}, {Status: 500}, {Status: 500}, {Status: 500}}
	tests := []struct {
		name   string
		script []mailersendfake.Reply
	}{
		{"mailersend accepts", nil},
		{"mailersend fails", mailersendDown},
		{"mailersend rejects the token", []mailersendfake.Reply{{Status: 401, Body: `{"message":"Unauthenticated."}`}}},
		{"mailersend paused", []mailersendfake.Reply{{Status: 202, Header: map[string]string{"X-Send-Paused": "true"}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			apptest.Both(t, functions.Mount(nil, routes.SendLink), func(t *testing.T, h *apptest.Harness) {
				h.User("ann@band.example", "Ann", db.RoleMember)
				h.Mail.Script(tt.script...)
				member, stranger := h.Browser("198.51.100.1"), h.Browser("198.51.100.2")
				for i := 1; i <= 4; i++ {
					m, s := member.SendLink("ann@band.example"), stranger.SendLink("nobody@band.example")
					want := http.StatusAccepted
					if i == 4 {
						want = http.StatusTooManyRequests // 3 links per email per hour
					}
					if m.Status != want {
						t.Fatalf("request %d: member got %d, want %d: %s", i, m.Status, want, m.Body)
					}
					if answer(m) != answer(s) {
						t.Fatalf("request %d: member and stranger answers differ:\n--- member\n%s\n--- stranger\n%s", i, answer(m), answer(s))
					}
					if i == 4 && (m.Header.Get("Retry-After") != "3600" || m.ErrorCode() != "rate_limited") {
						t.Fatalf("rate limited answer: Retry-After %q code %q, want 3600 rate_limited", m.Header.Get("Retry-After"), m.ErrorCode())
					}
				}
			})
		})
	}
}

func TestSendLinkLimitsPerAddressAndRecovers(t *testing.T) {
	apptest.Both(t, functions.Mount(nil, routes.SendLink), func(t *testing.T, h *apptest.Harness) {
		b := h.Browser("198.51.100.9")
		for i := range 20 {
			if r := b.SendLink(fmt.Sprintf("p%d@band.example", i)); r.Status != http.StatusAccepted {
				t.Fatalf("request %d from one address: %d, want 202", i+1, r.Status)
			}
			h.Clock.Advance(time.Minute)
		}
		r := b.SendLink("p20@band.example")
		if r.Status != http.StatusTooManyRequests || r.Header.Get("Retry-After") != "2400" {
			t.Fatalf("21st request: %d Retry-After %q, want 429 and 2400 (the first ages out in 40 min)", r.Status, r.Header.Get("Retry-After"))
		}
		if r := h.Browser("198.51.100.10").SendLink("p20@band.example"); r.Status != http.StatusAccepted {
			t.Fatalf("another address is limited too: %d", r.Status)
		}
		h.Clock.Advance(41 * time.Minute)
		if r := b.SendLink("p21@band.example"); r.Status != http.StatusAccepted {
			t.Fatalf("after the window: %d, want 202", r.Status)
		}
	})
}

func TestSendLinkRejectsBadInput(t *testing.T) {
	apptest.Both(t, functions.Mount(nil, routes.SendLink), func(t *testing.T, h *apptest.Harness) {
		tests := []struct {
			name, contentType, body string
			want                    int
		}{
			{"not an email", "application/json", `{"email":"nope"}`, http.StatusBadRequest},
			{"display name form", "application/json", `{"email":"Ann <ann@band.example>"}`, http.StatusBadRequest},
			{"empty", "application/json", `{"email":""}`, http.StatusBadRequest},
			{"not json", "application/json", `{"email":`, http.StatusBadRequest},
			{"unknown field", "application/json", `{"email":"a@b.example","admin":true}`, http.StatusBadRequest},
			{"too large", "application/json", `{"email":"` + strings.Repeat("a", 70<<10) + `"}`, http.StatusRequestEntityTooLarge},
			{"xml", "application/xml", `<email/>`, http.StatusUnsupportedMediaType},
			{"form", "application/x-www-form-urlencoded", `email=ann%40band.example`, http.StatusAccepted},
		}
		for i, tt := range tests {
			r := apptest.NewRequest(t, "POST", "/auth/send-link", tt.body)
			r.Header.Set("Content-Type", tt.contentType)
			r.Header.Set("X-Real-Ip", fmt.Sprintf("198.51.100.%d", 100+i))
			got := h.Do(r)
			if got.Status != tt.want {
				t.Errorf("%s: %d, want %d: %s", tt.name, got.Status, tt.want, got.Body)
			}
			if got.Status >= 400 && got.ErrorCode() == "" {
				t.Errorf("%s: error body %q lacks the JSON error shape", tt.name, got.Body)
			}
		}
	})
}

// TestSendLinkDoesNotWaitForMailersend runs on the self-hosted edge only:
// there the answer goes out before delivery. (On Lambda, delivery happens
// before the answer and strangers are padded instead; see the README.)
func TestSendLinkDoesNotWaitForMailersend(t *testing.T) {
	h := apptest.New(t, apptest.HTTP, functions.Mount(nil, routes.SendLink), apptest.Options{})
	h.User("ann@band.example", "Ann", db.RoleMember)
	const delay = 3 * time.Second
	h.Mail.SetDelay(delay)
	start := time.Now()
	r := h.Browser("198.51.100.20").SendLink("ann@band.example")
	took := time.Since(start)
	if r.Status != http.StatusAccepted {
		t.Fatalf("send-link: %d", r.Status)
	}
	if took > delay/4 {
		t.Fatalf("send-link for a member took %v with Mailersend answering in %v: it waited for the mail", took, delay)
	}
	h.Mail.SetDelay(0)
}

// TestUndeliverableLinkDiesAndIsLogged: when Mailersend refuses a mail
// for good, the link can never sign anyone in and the failure is logged at
// ERROR with the id of the request that asked for it, so an operator can
// tell who lost a link.
func TestUndeliverableLinkDiesAndIsLogged(t *testing.T) {
	h := apptest.New(t, apptest.HTTP, functions.Mount(nil, routes.SendLink), apptest.Options{})
	h.User("ann@band.example", "Ann", db.RoleMember)
	h.Mail.Script(mailersendfake.Reply{Status: 422, Body: `{"message":"The to.0.email must be a valid email address."}`})
	r := h.Browser("198.51.100.30").SendLink("ann@band.example")
	if r.Status != http.StatusAccepted {
		t.Fatalf("send-link: %d %s", r.Status, r.Body)
	}
	h.WaitJobs()
	var failed, tokenless bool
	if err := h.DB.Pool().QueryRow(t.Context(), `SELECT delivery_failed_at IS NOT NULL, token_hash IS NULL
		FROM login_tokens WHERE email = 'ann@band.example'`).Scan(&failed, &tokenless); err != nil {
		t.Fatal(err)
	}
	if !failed || !tokenless {
		t.Fatalf("after a refused mail: delivery failed %v, token gone %v; want both", failed, tokenless)
	}
	id := r.Header.Get("X-Request-Id")
	var logged bool
	for line := range strings.SplitSeq(h.Logs.String(), "\n") {
		logged = logged || (strings.Contains(line, `"level":"ERROR"`) && strings.Contains(line, `"request_id":"`+id+`"`) &&
			strings.Contains(line, "not delivered"))
	}
	if !logged {
		t.Fatalf("no ERROR naming request %s:\n%s", id, h.Logs.String())
	}
	if n := len(h.Mail.Sent()); n != 0 {
		t.Fatalf("%d mails sent, want none", n)
	}
}
