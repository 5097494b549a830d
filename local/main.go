// Command local runs bandarchive on a developer's machine:
//
//	go run ./local serve                      every function in one process on $PORT
//	go run ./local invoke <function> <event>  one function, one API Gateway v2 event
//	go run ./local migrate                    apply migrations, seed ADMIN_EMAIL
//	go run ./local stack                      each function as a process, behind Nginx, on $PORT
package main

import (
	"bandarchive/shared/db"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

const usage = `usage:
  local serve                          run every function and web/ on $PORT (default 8080)
  local invoke <function> <event.json> run one function with an API Gateway v2 event ("-" reads stdin)
  local migrate                        apply the database migrations and seed ADMIN_EMAIL
  local stack                          run each function as its own process behind Nginx on $PORT (default 8080)
`

var errUsage = errors.New("wrong arguments")

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	if errors.Is(err, errUsage) {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "local: %v\n", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errUsage
	}
	switch args[0] {
	case "serve":
		return serve(ctx, stderr)
	case "invoke":
		if len(args) != 3 {
			return errUsage
		}
		return invoke(ctx, args[1], args[2], stdin, stdout, stderr)
	case "migrate":
		return db.MigrateCommand(ctx, os.Environ(), stderr)
	case "stack":
		return stackCmd(ctx, stderr)
	}
	return errUsage
}
