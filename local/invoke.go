package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/aws/aws-lambda-go/events"

	"bandarchive/functions"
	"bandarchive/shared/app"
	"bandarchive/shared/runtime"
)

// invoke runs one function's handler with one event, through the same
// adapter as Lambda, and prints the response event (like sam local invoke).
// The worker takes any event, as on Lambda: it works the queue until no
// job is due (mails a link that send-link queued, say) and prints null.
func invoke(ctx context.Context, function, eventPath string, stdin io.Reader, stdout, stderr io.Writer) error {
	var raw []byte
	var err error
	if eventPath == "-" {
		raw, err = io.ReadAll(stdin)
	} else {
		raw, err = os.ReadFile(eventPath)
	}
	if err != nil {
		return fmt.Errorf("read event: %w", err)
	}
	if function == app.WorkerName {
		if !json.Valid(raw) {
			return fmt.Errorf("event %s is not JSON", eventPath)
		}
		p, w, err := app.OpenWorker(ctx, os.Environ(), stderr)
		if err != nil {
			return err
		}
		defer p.Close()
		if err := w.Drain(ctx); err != nil {
			return err
		}
		_, err = fmt.Fprintln(stdout, "null")
		return err
	}
	var e events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(raw, &e); err != nil {
		return fmt.Errorf("event %s is not API Gateway v2 JSON: %w", eventPath, err)
	}
	build, err := functions.Builder(function)
	if err != nil {
		return err
	}
	// As on Lambda: nothing runs after the answer.
	p, err := app.Open(ctx, function, append(os.Environ(), "AWS_LAMBDA_RUNTIME_API=local-invoke"), stderr)
	if err != nil {
		return err
	}
	defer p.Close()
	h, err := build(p)
	if err != nil {
		return err
	}
	resp, err := runtime.NewLambdaHandler(p.Wrap(h)).Invoke(ctx, e)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(resp)
}
