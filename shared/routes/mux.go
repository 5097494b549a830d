package routes

import (
	"fmt"
	"net/http"
	"slices"
	"strings"

	"bandarchive/shared/errs"
	"bandarchive/shared/httpx"
)

// MustServe builds a function's mux from its handlers keyed by pattern
// ("POST /auth/send-link"). It panics unless they are exactly the
// function's rows of the table: a mismatch is a bug of the code, which any
// test that builds the handler finds, never a fault of the environment.
func MustServe(function string, handlers map[string]http.Handler) http.Handler {
	want := For(function)
	if len(want) == 0 {
		panic(fmt.Sprintf("routes: function %q is not in the route table", function))
	}
	var missing, extra []string
	for _, r := range want {
		if _, ok := handlers[r.Pattern()]; !ok {
			missing = append(missing, r.Pattern())
		}
	}
	for p := range handlers {
		if !slices.ContainsFunc(want, func(r Route) bool { return r.Pattern() == p }) {
			extra = append(extra, p)
		}
	}
	if len(missing)+len(extra) > 0 {
		panic(fmt.Sprintf("routes: function %s: not handled %v, handled but not in the route table %v", function, missing, extra))
	}
	return Mux(want, func(r Route) http.Handler { return handlers[r.Pattern()] }, nil)
}

// Mux routes rs to the handler handlerFor gives each. A known path with
// another method gets a JSON 405 with Allow; any other path goes to
// fallback, or gets a JSON 404 when fallback is nil, as SPEC.md wants every
// error to be JSON.
func Mux(rs []Route, handlerFor func(Route) http.Handler, fallback http.Handler) *http.ServeMux {
	mux := http.NewServeMux()
	allowed := map[string][]string{}
	for _, r := range rs {
		mux.Handle(r.Pattern(), handlerFor(r))
		allowed[r.Path] = append(allowed[r.Path], r.Method)
		if r.Method == http.MethodGet {
			allowed[r.Path] = append(allowed[r.Path], http.MethodHead)
		}
	}
	for path, methods := range allowed {
		mux.Handle(path, methodNotAllowed(methods))
	}
	if fallback == nil {
		fallback = httpx.NotFoundHandler()
	}
	mux.Handle("/", fallback)
	return mux
}

func methodNotAllowed(methods []string) http.Handler {
	allow := strings.Join(methods, ", ")
	return httpx.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		w.Header().Set("Allow", allow)
		return errs.Errorf(errs.MethodNotAllowed, "%s is not allowed here; use %s.", r.Method, allow)
	})
}
