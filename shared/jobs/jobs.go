// Package jobs names the archive's background jobs: the arguments each
// kind carries and the queue it runs in. Jobs are rows in PostgreSQL
// (River), inserted in the transaction of the change that needs them, so a
// crash loses none; the worker package runs them.
package jobs

import (
	"github.com/google/uuid"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

// The queues: mail is quick and many may run at once; media decodes whole
// recordings, one at a time per worker.
const (
	QueueMail  = "mail"
	QueueMedia = "media"
)

// DeliverLink mails one sign-in link. It is enqueued for every accepted
// request, member or stranger, and decides itself whether anything is
// mailed. It carries no secret: the link's token is minted at delivery.
type DeliverLink struct {
	LoginID   uuid.UUID `json:"login_id"`
	RequestID string    `json:"request_id,omitempty"`
}

// Kind names the job in River's table.
func (DeliverLink) Kind() string { return "deliver_link" }

// InsertOpts puts deliveries in the mail queue. Attempts are spread over
// the link's ten minutes by the worker's retry policy.
func (DeliverLink) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueMail, MaxAttempts: 6}
}

// Process measures a recording's loudness, draws its waveform and makes
// its listening copy.
type Process struct {
	RecordingID uuid.UUID `json:"recording_id"`
}

// Kind names the job in River's table.
func (Process) Kind() string { return "process_recording" }

// InsertOpts puts processing in the media queue, at most once per
// recording at a time: enqueueing it again while one is waiting or
// running does nothing, while a finished or abandoned one can be retried.
func (Process) InsertOpts() river.InsertOpts {
	return river.InsertOpts{
		Queue:       QueueMedia,
		MaxAttempts: 4,
		UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: []rivertype.JobState{
			rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRetryable,
			rivertype.JobStateRunning, rivertype.JobStateScheduled,
		}},
	}
}
