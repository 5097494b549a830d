package background

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

func TestGoDetachesAndWaitWaits(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := New(nil, false)
		ctx, cancel := context.WithCancel(context.Background())
		var done atomic.Bool
		release := make(chan struct{})
		g.Go(ctx, "slow", time.Minute, func(ctx context.Context) error {
			<-release
			if ctx.Err() != nil {
				return ctx.Err()
			}
			done.Store(true)
			return nil
		})
		cancel() // the request ends; the task must not notice
		short, stop := context.WithTimeout(context.Background(), 20*time.Millisecond)
		defer stop()
		if err := g.Wait(short); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Wait with a task running: %v, want a deadline error", err)
		}
		close(release)
		if err := g.Wait(context.Background()); err != nil || !done.Load() {
			t.Fatalf("Wait: %v, task done %v; want nil and true", err, done.Load())
		}
	})
}

func TestSyncRunsBeforeReturning(t *testing.T) {
	g := New(nil, true)
	ran := false
	g.Go(context.Background(), "now", time.Second, func(context.Context) error { ran = true; return nil })
	if !ran {
		t.Fatal("a synchronous group returned before running the task")
	}
}

func TestTimeoutBoundsATask(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := New(nil, true)
		var err error
		g.Go(context.Background(), "stuck", 10*time.Millisecond, func(ctx context.Context) error {
			<-ctx.Done()
			err = ctx.Err()
			return err
		})
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("task ctx ended with %v, want DeadlineExceeded", err)
		}
	})
}
