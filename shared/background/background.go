// Package background runs work that must not hold up an answer (mail
// delivery, waveforms) and lets graceful shutdown wait for it. On Lambda
// nothing may run after the handler returns, so there the group is
// synchronous: work runs before the answer.
package background

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// Group runs tasks detached from the requests that start them.
type Group struct {
	sync bool
	log  *slog.Logger
	wg   sync.WaitGroup
}

// New returns a group that logs failures to log. A synchronous group (the
// Lambda edge) runs each task inside Go, before the answer.
func New(log *slog.Logger, synchronous bool) *Group {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Group{log: log, sync: synchronous}
}

// Sync reports whether tasks run before Go returns.
func (g *Group) Sync() bool { return g.sync }

// Go runs task with a context that keeps ctx's values but not its
// cancellation (the request may end first), bounded by timeout. A failure
// is logged with name.
func (g *Group) Go(ctx context.Context, name string, timeout time.Duration, task func(context.Context) error) {
	run := func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), timeout)
		defer cancel()
		if err := task(ctx); err != nil {
			g.log.Error("background task failed", "task", name, "err", err.Error())
		}
	}
	if g.sync {
		run()
		return
	}
	g.wg.Go(run)
}

// Wait blocks until every task has finished or ctx ends.
func (g *Group) Wait(ctx context.Context) error {
	done := make(chan struct{})
	go func() { g.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
