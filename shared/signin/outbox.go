package signin

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"bandarchive/shared/mail"
)

// Outbox hands sign-in mails to a mail.Sender without making the person
// wait for it. Self-hosted, each delivery runs detached from its request
// and Wait (at shutdown) lets those in flight finish. On Lambda nothing may
// run after the answer, so Sync delivers before returning and Pad makes a
// stranger's answer take as long as a typical delivery.
type Outbox struct {
	sender mail.Sender
	log    *slog.Logger
	// Sync delivers inside Send (the Lambda edge).
	Sync bool
	// Budget bounds one delivery, retries included.
	Budget time.Duration

	wg      sync.WaitGroup
	typical atomic.Int64 // moving average of delivery time, in ns
}

// NewOutbox returns an asynchronous outbox for sender.
func NewOutbox(sender mail.Sender, log *slog.Logger) *Outbox {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Outbox{sender: sender, log: log, Budget: 2 * time.Minute}
}

// Send delivers m: in the background, or before returning when Sync. The
// outcome is only logged: it must never change the person's answer.
func (o *Outbox) Send(ctx context.Context, m mail.Message) {
	if o.Sync {
		o.deliver(ctx, m)
		return
	}
	o.wg.Add(1)
	go func() {
		defer o.wg.Done()
		o.deliver(context.WithoutCancel(ctx), m)
	}()
}

func (o *Outbox) deliver(ctx context.Context, m mail.Message) {
	ctx, cancel := context.WithTimeout(ctx, o.Budget)
	defer cancel()
	start := time.Now()
	if err := o.sender.Send(ctx, m); err != nil {
		o.log.Error("sign-in mail failed", "err", err.Error())
	}
	d := int64(time.Since(start))
	// An exponential moving average, enough to pad strangers' answers.
	for {
		old := o.typical.Load()
		next := d
		if old != 0 {
			next = old + (d-old)/8
		}
		if o.typical.CompareAndSwap(old, next) {
			return
		}
	}
}

// Pad waits as long as a typical delivery when Sync, so on Lambda a
// stranger's answer takes as long as a member's.
func (o *Outbox) Pad(ctx context.Context) {
	if !o.Sync {
		return
	}
	t := time.NewTimer(time.Duration(o.typical.Load()))
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// Wait blocks until deliveries in flight finish or ctx ends.
func (o *Outbox) Wait(ctx context.Context) error {
	done := make(chan struct{})
	go func() { o.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
