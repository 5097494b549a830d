package signin

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"bandarchive/shared/background"
	"bandarchive/shared/mail"
)

type slowSender struct{ took time.Duration }

func (s slowSender) Send(ctx context.Context, _ mail.Message) error {
	time.Sleep(s.took)
	return nil
}

// TestPadMatchesDeliveryOnLambda: when mail goes before the answer (the
// Lambda edge), a stranger's answer is held as long as a typical delivery.
// The clock is synctest's: deliveries take exactly 40ms, so the pad must
// too, on however busy a machine.
func TestPadMatchesDeliveryOnLambda(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := background.New(nil, true)
		o := NewOutbox(slowSender{took: 40 * time.Millisecond}, g)
		for range 3 {
			o.Send(context.Background(), mail.Message{To: "ann@band.example"})
		}
		start := time.Now()
		o.Pad(context.Background())
		if took := time.Since(start); took != 40*time.Millisecond {
			t.Fatalf("Pad took %v, want a typical delivery (40ms)", took)
		}
		if !o.Sync() {
			t.Fatal("Sync() = false for a synchronous group")
		}
	})
}

// TestPadIsFreeWhenDeliveryIsInTheBackground: self-hosted, nobody waits
// for mail, so there is nothing to pad; a cancelled context ends a pad.
func TestPadIsFreeWhenDeliveryIsInTheBackground(t *testing.T) {
	g := background.New(nil, false)
	o := NewOutbox(slowSender{took: 200 * time.Millisecond}, g)
	o.record(time.Hour) // a typical delivery that would be absurd to wait for
	done := make(chan struct{})
	go func() { o.Pad(context.Background()); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Pad waited although delivery is in the background")
	}
	o = NewOutbox(slowSender{took: 200 * time.Millisecond}, background.New(nil, true))
	o.record(time.Hour)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	o.Pad(ctx) // returns at once: the request is gone
}
