// Package limits defines, once, the upload limits that the upload
// function, the Nginx renderer and the local stack must agree on, and the
// words a person sees when a file is over them.
package limits

import (
	"fmt"
	"time"

	"bandarchive/shared/errs"
)

// DefaultMaxUploadBytes is MAX_UPLOAD_BYTES's default: 500 MB (MiB, as
// Nginx counts).
const DefaultMaxUploadBytes = 500 << 20

// FormOverhead is what a one-request upload may carry on top of the file:
// the multipart framing and the text fields.
const FormOverhead = 1 << 20

// Resumable uploads (tus).
const (
	// DefaultMaxChunkBytes bounds one PATCH of a resumable upload: a few
	// MB, under Traefik's 60 s and its buffering middleware's 20 MB.
	DefaultMaxChunkBytes = 16 << 20
	// LambdaMaxChunkBytes is the bound on Lambda, whose payload limit (6
	// MB) base64 inflates by a third.
	LambdaMaxChunkBytes = 4 << 20
	// UploadExpiry is how long an unfinished upload waits for its next
	// bytes, and how long a finished one can still be asked about.
	UploadExpiry = 24 * time.Hour
	// MaxUnfinishedUploads and MaxUnfinishedBytes bound what one member
	// may have unfinished at once (bytes: at least one largest file).
	MaxUnfinishedUploads = 3
	MaxUnfinishedBytes   = 2 << 30
)

// LambdaMaxResponseBytes bounds one answer of audio on Lambda, whose
// response payload is at most 6 MB and base64 inflates binary by a third:
// players ask for the next range when one ends.
const LambdaMaxResponseBytes = 4 << 20

// TooLargeMessage is what a person reads when a file is over max.
func TooLargeMessage(max int64) string {
	return fmt.Sprintf("The file is larger than the archive accepts (at most %s).", HumanBytes(max))
}

// TooLarge is the error of a file over max.
func TooLarge(max int64) error { return errs.Errorf(errs.TooLarge, "%s", TooLargeMessage(max)) }

// HumanBytes writes a size for people in MB and KB of 1024, as operating
// systems show file sizes: the default limit, 500 << 20 bytes, reads
// "500 MB", not "524 MB".
func HumanBytes(n int64) string {
	if n >= 1<<20 {
		return fmt.Sprintf("%d MB", n>>20)
	}
	return fmt.Sprintf("%d KB", (n+1023)>>10)
}
