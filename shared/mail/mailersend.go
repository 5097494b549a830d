package mail

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// DefaultAPIURL is Mailersend's public API, used when MailersendConfig.APIURL
// is empty.
const DefaultAPIURL = "https://api.mailersend.com"

// MailersendConfig configures NewMailersend. Zero fields take the defaults
// noted beside them.
type MailersendConfig struct {
	APIURL   string // default DefaultAPIURL; tests point it at a fake
	Token    string // Mailersend API token
	From     string // sender address, on a domain verified in Mailersend
	FromName string // sender display name, may be empty

	// Budget bounds one whole delivery, retries and waits included
	// (default 60s). The caller's own deadline still applies if shorter.
	Budget time.Duration
	// AttemptTimeout bounds each HTTP call (default 10s), so one hung call
	// cannot use up the whole budget.
	AttemptTimeout time.Duration

	Client *http.Client // default: a client with its own transport
	Logger *slog.Logger // default: discards everything

	// Sleep waits d or until ctx is done (default: a real timer). Tests
	// inject one that records d instead of waiting.
	Sleep func(ctx context.Context, d time.Duration) error
	// Backoff is the wait before retrying after the given failed attempt
	// (1-based) of a 5xx, a connection error or a 429 without Retry-After
	// (default: 0.5s, 1s, 2s, 4s, then 8s, each cut by up to half at random).
	Backoff func(attempt int) time.Duration
}

// Mailersend is a Sender that delivers through Mailersend's email API,
// retrying what Mailersend documents as transient within a time budget.
// It is safe for concurrent use.
type Mailersend struct {
	endpoint       string
	token          string
	from           address
	budget         time.Duration
	attemptTimeout time.Duration
	client         *http.Client
	log            *slog.Logger
	sleep          func(context.Context, time.Duration) error
	backoff        func(int) time.Duration
}

// NewMailersend returns a Mailersend configured by c, with defaults filled in.
func NewMailersend(c MailersendConfig) *Mailersend {
	m := &Mailersend{
		endpoint:       strings.TrimRight(c.APIURL, "/") + "/v1/email",
		token:          c.Token,
		from:           address{Email: c.From, Name: c.FromName},
		budget:         c.Budget,
		attemptTimeout: c.AttemptTimeout,
		client:         c.Client,
		log:            c.Logger,
		sleep:          c.Sleep,
		backoff:        c.Backoff,
	}
	if c.APIURL == "" {
		m.endpoint = DefaultAPIURL + "/v1/email"
	}
	if m.budget <= 0 {
		m.budget = 60 * time.Second
	}
	if m.attemptTimeout <= 0 {
		m.attemptTimeout = 10 * time.Second
	}
	if m.client == nil {
		// Not http.DefaultClient: its transport is shared, mutable state.
		m.client = &http.Client{Transport: &http.Transport{
			Proxy:               http.ProxyFromEnvironment,
			ForceAttemptHTTP2:   true,
			TLSHandshakeTimeout: 5 * time.Second,
			IdleConnTimeout:     90 * time.Second,
		}}
	}
	if m.log == nil {
		m.log = slog.New(slog.DiscardHandler)
	}
	if m.sleep == nil {
		m.sleep = sleep
	}
	if m.backoff == nil {
		m.backoff = exponentialBackoff
	}
	return m
}

// Send delivers msg, retrying 429, 5xx and connection errors while the
// budget allows. It returns nil only when Mailersend queued the mail (202
// with an X-Message-Id, not paused, recipient not suppressed); any other
// outcome is an *Error wrapping ErrNotSent.
//
// Every retry sends the same bytes: Mailersend has no idempotency key, so a
// mail that was queued although its answer was lost arrives twice, and both
// copies must carry the same link.
func (m *Mailersend) Send(ctx context.Context, msg Message) error {
	body, err := json.Marshal(m.request(msg))
	if err != nil {
		return fmt.Errorf("%w: encode request: %w", ErrNotSent, err)
	}
	ctx, cancel := context.WithTimeout(ctx, m.budget)
	defer cancel()
	// Only the domain: the address is personal, and enough to spot a
	// provider that bounces.
	log := m.log.With(slog.String("to_domain", domainOf(msg.To)))

	for attempt := 1; ; attempt++ {
		out := m.attempt(ctx, body, msg.To)
		fail := out.fail
		if fail == nil {
			log.InfoContext(ctx, "mail sent", slog.String("message_id", out.messageID), slog.Int("attempts", attempt))
			return nil
		}
		fail.Attempts = attempt
		log.WarnContext(ctx, "mail attempt failed", out.attrs(attempt)...)
		if !fail.Retryable || ctx.Err() != nil {
			return m.giveUp(ctx, log, fail)
		}
		wait := out.wait
		if wait <= 0 { // none given, or "now": still pace the calls
			wait = m.backoff(attempt)
		}
		if deadline, ok := ctx.Deadline(); ok && wait >= time.Until(deadline) {
			return m.giveUp(ctx, log, fail)
		}
		log.InfoContext(ctx, "mail retry scheduled", slog.Int("attempt", attempt), slog.Duration("delay", wait))
		if err := m.sleep(ctx, wait); err != nil {
			fail.Err = err
			return m.giveUp(ctx, log, fail)
		}
	}
}

// giveUp logs the final failure and returns it.
func (m *Mailersend) giveUp(ctx context.Context, log *slog.Logger, fail *Error) error {
	attrs := []any{
		slog.String("reason", fail.Kind.Error()),
		slog.Int("status", fail.Status),
		slog.Int("attempts", fail.Attempts),
	}
	if fail.Message != "" {
		attrs = append(attrs, slog.String("message", fail.Message))
	}
	if len(fail.Fields) > 0 {
		attrs = append(attrs, slog.Any("fields", fail.Fields))
	}
	if fail.Err != nil {
		attrs = append(attrs, slog.String("error", fail.Err.Error()))
	}
	// The caller's context may be what ended the delivery; log regardless.
	log.ErrorContext(context.WithoutCancel(ctx), "mail not sent", attrs...)
	return fail
}

// outcome is what one HTTP call came to.
type outcome struct {
	messageID string        // set when the mail was queued
	fail      *Error        // nil when the mail was queued
	wait      time.Duration // a 429's Retry-After; negative when not given

	// Mailersend's X-RateLimit-Remaining and x-apiquota-remaining, logged
	// so an operator can tell a burst from a spent daily quota.
	rateLimitRemaining, quotaRemaining string
}

// attempt makes one HTTP call.
func (m *Mailersend) attempt(delivery context.Context, body []byte, to string) outcome {
	ctx, cancel := context.WithTimeout(delivery, m.attemptTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, m.endpoint, bytes.NewReader(body))
	if err != nil {
		return outcome{fail: &Error{Kind: ErrRejected, Err: err}, wait: -1}
	}
	req.Header.Set("Authorization", "Bearer "+m.token)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")

	resp, err := m.client.Do(req)
	if err != nil {
		// *url.Error repeats the endpoint; the cause alone is enough.
		if uerr, ok := errors.AsType[*url.Error](err); ok {
			err = uerr.Err
		}
		if delivery.Err() == nil && errors.Is(err, context.DeadlineExceeded) {
			err = fmt.Errorf("no answer within %v: %w", m.attemptTimeout, err)
		}
		return outcome{fail: &Error{Kind: ErrUnavailable, Retryable: true, Err: err}, wait: -1}
	}
	defer resp.Body.Close()
	// A read error leaves a partial body; the status and headers decide.
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	return classify(resp.StatusCode, resp.Header, answer, to)
}

// classify turns one Mailersend answer into the outcome the spec defines.
func classify(status int, h http.Header, body []byte, to string) outcome {
	fail := &Error{Status: status}
	out := outcome{
		fail:               fail,
		wait:               -1,
		rateLimitRemaining: h.Get("X-RateLimit-Remaining"),
		quotaRemaining:     h.Get("X-Apiquota-Remaining"),
	}
	switch {
	case status == http.StatusAccepted:
		// A 202 is not yet a sent mail: Mailersend also answers 202 when
		// it holds or drops the mail.
		if strings.EqualFold(h.Get("X-Send-Paused"), "true") {
			fail.Kind = ErrSendPaused
		} else if reasons, ok := suppressed(body, to); ok {
			fail.Kind = ErrSuppressed
			fail.Message = strings.Join(reasons, ", ")
		} else if id := h.Get("X-Message-Id"); id == "" {
			fail.Kind = ErrNoMessageID
		} else {
			return outcome{messageID: id}
		}
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		fail.Kind = ErrUnauthorized
		fail.Message, _ = problem(body)
	case status == http.StatusUnprocessableEntity:
		fail.Kind = ErrInvalid
		fail.Message, fail.Fields = problem(body)
	case status == http.StatusTooManyRequests:
		fail.Kind, fail.Retryable = ErrRateLimited, true
		if d, ok := parseRetryAfter(h.Get("Retry-After"), time.Now()); ok {
			out.wait = d
		}
	case status >= 500:
		fail.Kind, fail.Retryable = ErrUnavailable, true
	default:
		fail.Kind = ErrRejected
		fail.Message, _ = problem(body)
	}
	return out
}

// problem reads Mailersend's error body, {"message": ..., "errors":
// {"field": [...]}}. Its texts name fields, never their values, so they are
// safe to log.
func problem(body []byte) (message string, fields map[string][]string) {
	var v struct {
		Message string              `json:"message"`
		Errors  map[string][]string `json:"errors"`
	}
	if json.Unmarshal(body, &v) != nil {
		return "", nil
	}
	return v.Message, v.Errors
}

// suppressed reports whether a 202 body's warnings say the recipient was
// suppressed, and why. Mailersend reports it as
//
//	{"warnings":[{"type":"ALL_SUPPRESSED","warning":"...",
//	  "recipients":[{"email":"...","reasons":["hard_bounced"]}]}]}
//
// With one recipient per mail, SOME_SUPPRESSED naming that recipient means
// the same as ALL_SUPPRESSED.
func suppressed(body []byte, to string) (reasons []string, ok bool) {
	var v struct {
		Warnings []struct {
			Type       string `json:"type"`
			Recipients []struct {
				Email   string   `json:"email"`
				Reasons []string `json:"reasons"`
			} `json:"recipients"`
		} `json:"warnings"`
	}
	if len(bytes.TrimSpace(body)) == 0 || json.Unmarshal(body, &v) != nil {
		return nil, false
	}
	for _, w := range v.Warnings {
		all := w.Type == "ALL_SUPPRESSED"
		if !all && w.Type != "SOME_SUPPRESSED" {
			continue
		}
		hit := all || len(w.Recipients) == 0
		for _, r := range w.Recipients {
			if all || strings.EqualFold(r.Email, to) {
				hit = true
				reasons = append(reasons, r.Reasons...)
			}
		}
		ok = ok || hit
	}
	return reasons, ok
}

// parseRetryAfter reads a Retry-After header: delay seconds or an HTTP date.
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if s, err := strconv.Atoi(v); err == nil {
		// Clamped so a huge value cannot overflow into a short wait.
		return time.Duration(min(max(s, 0), 1<<20)) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}

// attrs are the log attributes of a failed attempt: nothing from the mail.
func (out outcome) attrs(attempt int) []any {
	fail := out.fail
	attrs := []any{
		slog.Int("attempt", attempt),
		slog.Int("status", fail.Status),
		slog.String("reason", fail.Kind.Error()),
	}
	if out.rateLimitRemaining != "" {
		attrs = append(attrs, slog.String("rate_limit_remaining", out.rateLimitRemaining))
	}
	if out.quotaRemaining != "" {
		attrs = append(attrs, slog.String("api_quota_remaining", out.quotaRemaining))
	}
	if fail.Err != nil {
		attrs = append(attrs, slog.String("error", fail.Err.Error()))
	}
	return attrs
}

// request is the JSON body of POST /v1/email.
func (m *Mailersend) request(msg Message) emailRequest {
	return emailRequest{
		From:    m.from,
		To:      []address{{Email: msg.To, Name: msg.ToName}},
		Subject: msg.Subject,
		Text:    msg.Text,
		HTML:    msg.HTML,
		Tags:    msg.Tags,
		// Explicitly off, whatever the domain's defaults: click tracking
		// would rewrite the sign-in link through Mailersend's servers.
		Settings: trackingSettings{},
	}
}

type emailRequest struct {
	From     address          `json:"from"`
	To       []address        `json:"to"`
	Subject  string           `json:"subject"`
	Text     string           `json:"text,omitempty"`
	HTML     string           `json:"html,omitempty"`
	Tags     []string         `json:"tags,omitempty"`
	Settings trackingSettings `json:"settings"`
}

type address struct {
	Email string `json:"email"`
	Name  string `json:"name,omitempty"`
}

type trackingSettings struct {
	TrackClicks  bool `json:"track_clicks"`
	TrackOpens   bool `json:"track_opens"`
	TrackContent bool `json:"track_content"`
}

// domainOf returns the part of an address after its last "@", lower-cased.
func domainOf(addr string) string {
	if i := strings.LastIndexByte(addr, '@'); i >= 0 {
		return strings.ToLower(addr[i+1:])
	}
	return ""
}

// sleep waits d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// exponentialBackoff waits 0.5s, 1s, 2s, 4s, then 8s for every later
// attempt, each cut by up to half at random so that several processes that
// failed together do not retry together.
func exponentialBackoff(attempt int) time.Duration {
	d := 8 * time.Second
	if attempt >= 1 && attempt <= 4 {
		d = 500 * time.Millisecond << (attempt - 1)
	}
	return d/2 + rand.N(d/2)
}
