package signin

import (
	"context"
	"sync/atomic"
	"time"

	"bandarchive/shared/background"
	"bandarchive/shared/mail"
)

// Outbox hands sign-in mails to a mail.Sender without making the person
// wait for it: deliveries run in the background group, which graceful
// shutdown waits for. On Lambda the group is synchronous, and Pad makes a
// stranger's answer take as long as a typical delivery.
type Outbox struct {
	sender mail.Sender
	group  *background.Group
	// Budget bounds one delivery, retries included.
	Budget time.Duration

	typical atomic.Int64 // moving average of delivery time, in ns
}

// NewOutbox returns an outbox delivering through sender in group.
func NewOutbox(sender mail.Sender, group *background.Group) *Outbox {
	return &Outbox{sender: sender, group: group, Budget: 2 * time.Minute}
}

// Send delivers m. The outcome is only logged: it must never change the
// person's answer.
func (o *Outbox) Send(ctx context.Context, m mail.Message) {
	o.group.Go(ctx, "sign-in mail", o.Budget, func(ctx context.Context) error {
		start := time.Now()
		err := o.sender.Send(ctx, m)
		o.record(time.Since(start))
		return err
	})
}

// record keeps an exponential moving average of delivery times.
func (o *Outbox) record(d time.Duration) {
	for {
		old := o.typical.Load()
		next := int64(d)
		if old != 0 {
			next = old + (next-old)/8
		}
		if o.typical.CompareAndSwap(old, next) {
			return
		}
	}
}

// Pad waits as long as a typical delivery when deliveries are synchronous,
// so on Lambda a stranger's answer takes as long as a member's.
func (o *Outbox) Pad(ctx context.Context) {
	if !o.group.Sync() {
		return
	}
	t := time.NewTimer(time.Duration(o.typical.Load()))
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// Sync reports whether deliveries happen before the answer.
func (o *Outbox) Sync() bool { return o.group.Sync() }
