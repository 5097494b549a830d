package runtime

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/aws/aws-lambda-go/events"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"

	"bandarchive/shared/errs"
	"bandarchive/shared/httpx"
)

// InvokePath is the Lambda invoke URL of a container image's emulator.
const InvokePath = "/2015-03-31/functions/function/invocations"

// LambdaHandler runs an http.Handler for API Gateway v2 (payload 2.0)
// events, absorbing the adapter's traits so the answers match net/http's.
type LambdaHandler struct {
	adapter *httpadapter.HandlerAdapterV2
}

// NewLambdaHandler wraps h for the Lambda edge.
func NewLambdaHandler(h http.Handler) *LambdaHandler {
	return &LambdaHandler{adapter: httpadapter.NewV2(normaliseHeaders(h))}
}

// Invoke answers one event.
func (l *LambdaHandler) Invoke(ctx context.Context, e events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	if e.RequestContext.HTTP.Method == "" {
		return events.APIGatewayV2HTTPResponse{}, fmt.Errorf("event has no requestContext.http.method: is it an API Gateway v2 (payload 2.0) event?")
	}
	ctx = context.WithValue(ctx, eventHeadersKey{}, e.Headers)
	resp, err := l.adapter.ProxyWithContext(ctx, e)
	if e.RequestContext.HTTP.Method == http.MethodHead {
		// net/http sends no body for HEAD, whatever the handler wrote.
		resp.Body, resp.IsBase64Encoded = "", false
	}
	return resp, err
}

// eventHeadersKey carries the event's header text past the adapter.
type eventHeadersKey struct{}

// normaliseHeaders undoes the adapter's splitting of header values on
// commas: net/http hands a handler "a,b" as one value, as sent, and so must
// the Lambda edge, so the event's own text is put back (the adapter trims
// around each comma). Cookies were split per cookie and join with "; ".
func normaliseHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sent, _ := r.Context().Value(eventHeadersKey{}).(map[string]string)
		for k, vs := range r.Header {
			if len(vs) < 2 {
				continue
			}
			if k == "Cookie" {
				r.Header[k] = []string{strings.Join(vs, "; ")}
				continue
			}
			r.Header[k] = []string{eventHeader(sent, k, vs)}
		}
		h.ServeHTTP(w, r)
	})
}

// eventHeader is the event's text for header key, whatever its case, or vs
// joined when the event does not have it.
func eventHeader(sent map[string]string, key string, vs []string) string {
	for k, v := range sent {
		if strings.EqualFold(k, key) {
			return v
		}
	}
	return strings.Join(vs, ", ")
}

// InvokeAPIHandler answers the Lambda invoke URL with h behind the adapter,
// so test events can be sent to a running process as to a Lambda container.
func InvokeAPIHandler(h http.Handler) http.Handler {
	lh := NewLambdaHandler(h)
	return httpx.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		var e events.APIGatewayV2HTTPRequest
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 6<<20))
		if err != nil {
			return errs.Errorf(errs.TooLarge, "Lambda payloads are limited to 6 MB.")
		}
		if err := json.Unmarshal(body, &e); err != nil {
			return errs.Wrap(errs.Invalid, err, "The body is not an API Gateway v2 event.")
		}
		resp, err := lh.Invoke(r.Context(), e)
		if err != nil {
			// Lambda answers a function error with 200 and errorMessage.
			return httpx.WriteJSON(w, http.StatusOK, map[string]string{"errorMessage": err.Error(), "errorType": "FunctionError"})
		}
		return httpx.WriteJSON(w, http.StatusOK, resp)
	})
}
