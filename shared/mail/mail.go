// Package mail delivers the few mails bandarchive sends: sign-in links.
//
// Callers depend on the small Sender interface. Mailersend delivers through
// Mailersend's HTTP API with bounded retries; LogSender is the development
// stand-in that writes each mail to the log instead of sending it.
//
// The text of a sign-in mail is a secret (whoever holds the link can sign
// in), so Mailersend never logs a body, a subject or a full address.
package mail

import "context"

// Message is one mail to one recipient. Text and HTML both carry the link, so
// any mail client shows it.
type Message struct {
	To      string // recipient address
	ToName  string // recipient display name, may be empty
	Subject string
	Text    string
	HTML    string
	Tags    []string // Mailersend tags, for grouping in its dashboard
	// Link is the address the mail asks its reader to open (the sign-in
	// link, also in Text and HTML), or empty. Only the dev mailer uses it:
	// it prints the link where a developer can click it.
	Link string
}

// Sender delivers one message. Implementations own retries: a caller calls
// Send once and treats a non-nil error as "the mail was not sent".
type Sender interface {
	Send(ctx context.Context, m Message) error
}
