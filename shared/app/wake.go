package app

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// wakeTimeout bounds one wake-up call; the worker's schedule runs what a
// failed call leaves within a minute.
const wakeTimeout = 2 * time.Second

// lambdaWake returns a Wake that invokes the worker function fn
// asynchronously (InvocationType Event): Lambda queues the invocation and
// answers 202 at once, so the caller never waits for the work, and the
// call costs the same whatever the job is (a member's mail or a
// stranger's nothing). The endpoint and credentials are the SDK's usual
// ones (AWS_ENDPOINT_URL_LAMBDA overrides the endpoint).
func lambdaWake(ctx context.Context, fn string, log *slog.Logger) (func(context.Context), error) {
	cfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("AWS configuration for waking the worker: %w", err)
	}
	client := lambda.NewFromConfig(cfg)
	return func(ctx context.Context) {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), wakeTimeout)
		defer cancel()
		_, err := client.Invoke(ctx, &lambda.InvokeInput{FunctionName: &fn, InvocationType: types.InvocationTypeEvent})
		if err != nil {
			log.Warn("waking the worker failed: its schedule runs the job within a minute", "err", err.Error())
		}
	}, nil
}
