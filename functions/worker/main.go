// Command worker works the job queue: sign-in mails and the processing of
// recordings (loudness, waveform, listening copy). Self-hosted it runs
// beside the functions and answers /healthz; on AWS Lambda it is invoked
// after each enqueue and on a schedule.
package main

import (
	"context"
	"fmt"
	"os"

	"bandarchive/shared/app"
)

func main() {
	if err := app.RunWorker(context.Background(), os.Args[1:], os.Environ(), os.Stderr); err != nil {
		fmt.Fprintf(os.Stderr, "worker: %v\n", err)
		os.Exit(1)
	}
}
