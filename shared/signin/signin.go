// Package signin sends magic links: the one flow behind send-link and
// joining by invite, with its rate limits and its refusal to tell members
// from strangers.
package signin

import (
	"fmt"
	"html"
	"net/http"
	"time"

	"github.com/google/uuid"

	"bandarchive/shared/auth"
	"bandarchive/shared/db"
	"bandarchive/shared/errs"
	"bandarchive/shared/httpx"
	mailpkg "bandarchive/shared/mail"
)

// LinkTTL is how long a sign-in link works (ASVS 5: at most 10 minutes).
const LinkTTL = 10 * time.Minute

// DefaultLimits are the rate limits of sign-in links (see db.Limits): 20
// requests per network, 3 links per address from one network, and a
// ceiling of 10 links per address from networks where its member is not
// signed in, all per hour.
var DefaultLimits = db.Limits{
	PerIP:    db.Limit{Max: 20, Window: time.Hour},
	PerPair:  db.Limit{Max: 3, Window: time.Hour},
	PerEmail: db.Limit{Max: 10, Window: time.Hour},
}

// Accepted is the one answer to every accepted request, member or not.
const Accepted = "If that address belongs to a member, a sign-in link is on its way. It works for 10 minutes."

// Service sends sign-in links.
type Service struct {
	DB      *db.DB
	Outbox  *Outbox
	BaseURL string
	AppName string
	Now     func() time.Time
	Limits  db.Limits
}

// Join carries what an invitee gave when asking to join.
type Join struct {
	InviteID    uuid.UUID
	DisplayName string
}

// NormaliseEmail is mail.NormaliseAddress with the answer a person sees.
func NormaliseEmail(s string) (string, error) {
	e, err := mailpkg.NormaliseAddress(s)
	if err != nil {
		return "", errs.InvalidField("email", "Please enter a valid email address.")
	}
	return e, nil
}

// SendLink stores a link for email, answers the request with the one
// answer everybody gets (202 and Accepted), and then mails the link when
// the address belongs to a member (or to an invitee, with join). Only a
// rate limit (429, also the same for everyone) or a failure of our own
// comes back as an error instead of an answer.
//
// The answer is flushed before delivery starts, so neither Mailersend nor
// the work of building the mail shows in its timing. With a Sync outbox
// (Lambda) nothing may run after the answer: the mail goes first and a
// stranger's answer is padded to match.
func (s *Service) SendLink(w http.ResponseWriter, r *http.Request, email string, join *Join) error {
	ctx := r.Context()
	t := auth.NewToken()
	req := db.LinkRequest{
		Email: email, IP: httpx.ClientIP(r), TokenHash: t.Hash(), Now: s.Now(), TTL: LinkTTL,
		Limits: s.Limits,
	}
	if join != nil {
		req.InviteID, req.DisplayName = &join.InviteID, join.DisplayName
	}
	out, err := s.DB.RequestLink(ctx, req)
	if err != nil {
		return err
	}
	if out.RetryAfter > 0 {
		secs := int((out.RetryAfter + time.Second - 1) / time.Second)
		e := errs.Errorf(errs.RateLimited, "Too many sign-in requests. Please try again in %s.", humanDuration(secs))
		e.RetryAfter = time.Duration(secs) * time.Second
		return e
	}
	answer := func() error {
		err := httpx.WriteJSON(w, http.StatusAccepted, map[string]string{"message": Accepted})
		http.NewResponseController(w).Flush() // not every edge can flush; the Lambda edge needs not
		return err
	}
	switch {
	case s.Outbox.Sync() && out.Deliver:
		s.Outbox.Send(ctx, s.message(email, t, out.User == nil))
		return answer()
	case s.Outbox.Sync():
		s.Outbox.Pad(ctx)
		return answer()
	case out.Deliver:
		err := answer()
		s.Outbox.Send(ctx, s.message(email, t, out.User == nil))
		return err
	}
	return answer()
}

func (s *Service) message(to string, t auth.Token, joining bool) mailpkg.Message {
	link := s.BaseURL + "/auth/verify/" + t.String()
	subject := "Sign in to " + s.AppName
	intro := "Here is your link to sign in to " + s.AppName + "."
	if joining {
		subject = "Welcome to " + s.AppName
		intro = "You were invited to " + s.AppName + ". Open this link to finish joining."
	}
	const outro = "The link works once, for 10 minutes. If you did not ask for it, ignore this mail: nothing happens."
	return mailpkg.Message{
		To:      to,
		Subject: subject,
		Text:    fmt.Sprintf("%s\n\n%s\n\n%s\n", intro, link, outro),
		HTML: fmt.Sprintf(`<p>%s</p><p><a href="%s">Sign in</a></p><p>%s</p>`,
			html.EscapeString(intro), link, html.EscapeString(outro)),
		Tags: []string{"sign-in"},
	}
}

func humanDuration(secs int) string {
	if secs < 90 {
		return fmt.Sprintf("%d seconds", secs)
	}
	return fmt.Sprintf("%d minutes", (secs+59)/60)
}
