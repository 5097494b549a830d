package signin

import (
	"context"
	"errors"
	"fmt"
	"html"
	"log/slog"
	"time"

	"github.com/google/uuid"

	"bandarchive/shared/auth"
	"bandarchive/shared/db"
	mailpkg "bandarchive/shared/mail"
)

// Delivery mails the links that requests stored: the work of one
// delivery job.
type Delivery struct {
	DB      *db.DB
	Mailer  mailpkg.Sender
	BaseURL string
	AppName string
	Now     func() time.Time
	Log     *slog.Logger
}

// ErrGaveUp marks a delivery that failed for good: its link is dead and
// retrying is pointless.
var ErrGaveUp = errors.New("sign-in mail not delivered")

// Deliver mails the link stored as id, when it is a member's or an
// invitee's and still usable; a stranger's request mails nothing. The
// token is minted here, so no job row holds a secret, and a retry mints a
// new one (only the newest mail works). When the mail is not sent: a
// failure Mailersend may get over (unavailable, rate limited) is returned
// for a retry while last is false; anything else, or the last attempt,
// kills the link, logs an ERROR naming the request, and returns an error
// wrapping ErrGaveUp.
func (d *Delivery) Deliver(ctx context.Context, id uuid.UUID, requestID string, last bool) error {
	t := auth.NewToken()
	link, ok, err := d.DB.MintLink(ctx, id, t.Hash(), d.Now())
	if err != nil || !ok {
		return err
	}
	err = d.Mailer.Send(ctx, d.message(link.Email, t, link.Joining))
	if err == nil {
		return nil
	}
	var me *mailpkg.Error
	if !last && (!errors.As(err, &me) || me.Retryable) {
		return err
	}
	if kill := d.DB.LinkUndeliverable(context.WithoutCancel(ctx), id, d.Now()); kill != nil {
		return errors.Join(err, kill) // retried: the link must not outlive a lost mail
	}
	d.Log.Error("sign-in mail not delivered: its link is dead", "login_id", id, "request_id", requestID, "err", err.Error())
	return fmt.Errorf("%w: %w", ErrGaveUp, err)
}

func (d *Delivery) message(to string, t auth.Token, joining bool) mailpkg.Message {
	link := d.BaseURL + "/auth/verify/" + t.String()
	subject := "Sign in to " + d.AppName
	intro := "Here is your link to sign in to " + d.AppName + "."
	if joining {
		subject = "Welcome to " + d.AppName
		intro = "You were invited to " + d.AppName + ". Open this link to finish joining."
	}
	const outro = "The link works once, for 10 minutes. If you did not ask for it, ignore this mail: nothing happens."
	return mailpkg.Message{
		To:      to,
		Subject: subject,
		Text:    fmt.Sprintf("%s\n\n%s\n\n%s\n", intro, link, outro),
		HTML: fmt.Sprintf(`<p>%s</p><p><a href="%s">Sign in</a></p><p>%s</p>`,
			html.EscapeString(intro), link, html.EscapeString(outro)),
		Tags: []string{"sign-in"},
		Link: link,
	}
}
