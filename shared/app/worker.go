package app

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"bandarchive/shared/db"
	"bandarchive/shared/httpx"
	"bandarchive/shared/routes"
	"bandarchive/shared/runtime"
	"bandarchive/shared/storage"
	"bandarchive/shared/worker"
)

// WorkerName names the worker in logs, compose and the template.
const WorkerName = "worker"

// RunWorker is the life of the worker binary. Self-hosted it works the
// queue until told to stop and answers /healthz on PORT (healthy while it
// works and the database answers); on Lambda each invocation works until
// no job is due. With the argument "migrate" it runs the migrate step, as
// every function binary does.
func RunWorker(ctx context.Context, args []string, environ []string, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "migrate" {
		return db.MigrateCommand(ctx, environ, stderr)
	}
	p, w, err := OpenWorker(ctx, environ, stderr)
	if err != nil {
		return err
	}
	defer p.Close()
	if p.Config.OnLambda() {
		lambda.StartWithOptions(func(ctx context.Context, _ json.RawMessage) error {
			return w.Drain(ctx)
		}, lambda.WithContext(ctx))
		return nil
	}
	if err := w.Start(ctx); err != nil {
		return err
	}
	p.Drain = w.Stop
	mux := http.NewServeMux()
	mux.Handle("GET "+routes.HealthPath, httpx.Health(w.Healthy))
	return runtime.Start(ctx, httpx.Stack(mux, httpx.Options{Logger: p.Logger}), p.RuntimeOptions())
}

// OpenWorker opens what a worker process needs: the parts (Open), and the
// worker on UPLOADS_DIR, named WORKER_ID or after the host. The caller
// closes the parts.
func OpenWorker(ctx context.Context, environ []string, stderr io.Writer) (*Parts, *worker.Worker, error) {
	p, err := Open(ctx, WorkerName, environ, stderr)
	if err != nil {
		return nil, nil, err
	}
	store, err := storage.Open(p.Config.Storage.UploadsDir)
	if err != nil {
		p.Close()
		return nil, nil, err
	}
	id := p.Config.Worker.ID
	if id == "" {
		host, _ := os.Hostname()
		id = WorkerName + "-" + host
	}
	w, err := p.NewWorker(store, id)
	if err != nil {
		p.Close()
		return nil, nil, err
	}
	return p, w, nil
}
