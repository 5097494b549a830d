package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/aws/aws-lambda-go/events"

	"bandarchive/shared/app"
	"bandarchive/shared/runtime"
)

// invoke runs one function's handler with one event, through the same
// adapter as Lambda, and prints the response event (like sam local invoke).
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
	var e events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(raw, &e); err != nil {
		return fmt.Errorf("event %s is not API Gateway v2 JSON: %w", eventPath, err)
	}
	cfg, database, log, err := app.Open(ctx, stderr)
	if err != nil {
		return err
	}
	defer database.Close()
	if err := database.CheckSchema(ctx); err != nil {
		return err
	}
	env := app.NewEnv(cfg, database, log, nil)
	env.Background.Sync = true // like Lambda: nothing runs after the answer
	h, err := build(env, function)
	if err != nil {
		return err
	}
	resp, err := runtime.NewLambdaHandler(env.Handler(h)).Invoke(ctx, e)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(resp)
}

func migrateCmd(ctx context.Context, stderr io.Writer) error {
	return app.Migrate(ctx, os.Environ(), stderr)
}
