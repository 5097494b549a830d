// Package signin sends magic links: the one flow behind send-link and
// joining by invite, with its rate limits and its refusal to tell members
// from strangers.
package signin

import (
	"context"
	"fmt"
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

// Service takes requests for sign-in links.
type Service struct {
	DB     *db.DB
	Now    func() time.Time
	Limits db.Limits
	// Wake tells whatever works the job queue that a delivery waits, where
	// nothing listens for new jobs (Lambda: an asynchronous invocation of
	// the worker function). It runs for every accepted request, member or
	// not, so it shows nothing in the answer; nil where the worker is
	// woken by the database itself.
	Wake func(context.Context)
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

// SendLink stores a link for email and enqueues its delivery (see
// db.RequestLink), then answers the request with the one answer everybody
// gets: 202 and Accepted. The delivery job decides whether anything is
// mailed, so the request does the same work whoever asks and never waits
// for Mailersend. Only a rate limit (429, also the same for everyone) or a
// failure of our own comes back as an error instead of an answer.
//
// next is where the sign-in returns to: the page the person was sent to
// sign in from. Anything but a path of this site (auth.SafeNext) returns
// to the start, without an error: a link that carries a bad one is a
// crafted link, and the person still signs in.
func (s *Service) SendLink(w http.ResponseWriter, r *http.Request, email string, join *Join, next string) error {
	ctx := r.Context()
	req := db.LinkRequest{
		Email: email, IP: httpx.ClientIP(r), RequestID: httpx.RequestID(ctx), Now: s.Now(), TTL: LinkTTL,
		Limits: s.Limits,
	}
	if next = auth.SafeNext(next); next != "/" {
		req.Next = next
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
	if s.Wake != nil {
		s.Wake(ctx)
	}
	return httpx.WriteJSON(w, http.StatusAccepted, map[string]string{"message": Accepted})
}

func humanDuration(secs int) string {
	if secs < 90 {
		return fmt.Sprintf("%d seconds", secs)
	}
	return fmt.Sprintf("%d minutes", (secs+59)/60)
}
