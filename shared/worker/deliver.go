package worker

import (
	"context"
	"errors"
	"time"

	"github.com/riverqueue/river"

	"bandarchive/shared/jobs"
	"bandarchive/shared/signin"
)

// deliverer runs jobs.DeliverLink.
type deliverer struct {
	river.WorkerDefaults[jobs.DeliverLink]
	cfg Config
}

func (d *deliverer) Timeout(*river.Job[jobs.DeliverLink]) time.Duration { return DeliveryTimeout }

// NextRetry spreads the attempts over the link's ten minutes: 5 s, 10 s,
// 20 s, 40 s, 80 s after each failure.
func (d *deliverer) NextRetry(job *river.Job[jobs.DeliverLink]) time.Time {
	return time.Now().Add(5 * time.Second << min(job.Attempt-1, 6))
}

func (d *deliverer) Work(ctx context.Context, job *river.Job[jobs.DeliverLink]) error {
	last := job.Attempt >= job.MaxAttempts
	err := d.cfg.Delivery.Deliver(ctx, job.Args.LoginID, job.Args.RequestID, last)
	if errors.Is(err, signin.ErrGaveUp) {
		return river.JobCancel(err)
	}
	return err
}
