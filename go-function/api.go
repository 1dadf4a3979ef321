package main

// api.go: the "api" handler, a payload-format-2.0 HTTP handler (Function URLs, API Gateway HTTP APIs).

import (
	"context"
	"encoding/json"
	"net/http"
	"runtime"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"
)

// app holds everything the handlers report or use; the handlers themselves read no globals.
type app struct {
	Version     string
	Commit      string
	BuildID     string
	Environment string
	Heartbeats  objectStore      // nil when HEARTBEAT_BUCKET is not set
	Now         func() time.Time // nil means time.Now
}

// route is one known path pattern ("{x}" matches one non-empty segment), the only method it
// accepts and what answers it.
type route struct {
	pattern string
	method  string
	serve   func(ctx context.Context, a app, req events.APIGatewayV2HTTPRequest) (int, any)
}

var routes = []route{
	{"/health", http.MethodGet, func(context.Context, app, events.APIGatewayV2HTTPRequest) (int, any) { return health() }},
	{"/version", http.MethodGet, func(_ context.Context, a app, _ events.APIGatewayV2HTTPRequest) (int, any) {
		return a.versionInfo()
	}},
	{"/hello", http.MethodGet, func(_ context.Context, _ app, req events.APIGatewayV2HTTPRequest) (int, any) {
		return hello(req)
	}},
	{"/hello/{name}", http.MethodGet, func(_ context.Context, _ app, req events.APIGatewayV2HTTPRequest) (int, any) {
		return helloPath(req)
	}},
	{"/heartbeat", http.MethodGet, func(ctx context.Context, a app, _ events.APIGatewayV2HTTPRequest) (int, any) {
		return a.readHeartbeat(ctx)
	}},
}

type errorBody struct {
	Error string `json:"error"`
}

// handle answers one payload-v2 HTTP event. It never returns an error: every outcome,
// including bad input, is an HTTP response with a JSON body.
func (a app) handle(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	path := req.RawPath
	if path == "" {
		path = req.RequestContext.HTTP.Path
	}
	method := req.RequestContext.HTTP.Method

	r, ok := match(path)
	if !ok {
		return respond(http.StatusNotFound, errorBody{"no route for " + truncate(path, 128)}, nil), nil
	}
	if method != r.method {
		return respond(http.StatusMethodNotAllowed,
			errorBody{"method " + truncate(method, 16) + " not allowed on " + truncate(path, 128)},
			map[string]string{"Allow": r.method}), nil
	}
	status, body := r.serve(ctx, a, req)
	return respond(status, body, nil), nil
}

// match finds the route whose pattern the path fits, segment by segment.
func match(path string) (route, bool) {
	got := strings.Split(path, "/")
	for _, r := range routes {
		want := strings.Split(r.pattern, "/")
		if len(want) != len(got) {
			continue
		}
		fits := true
		for i, seg := range want {
			if strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}") {
				fits = fits && got[i] != ""
			} else {
				fits = fits && got[i] == seg
			}
		}
		if fits {
			return r, true
		}
	}
	return route{}, false
}

func health() (int, any) {
	return http.StatusOK, map[string]string{"status": "ok"}
}

type versionBody struct {
	Version     string `json:"version"`
	Commit      string `json:"commit"`
	BuildID     string `json:"build_id"`
	Environment string `json:"environment"`
	GoVersion   string `json:"go_version"`
}

func (a app) versionInfo() (int, any) {
	return http.StatusOK, versionBody{
		Version:     a.Version,
		Commit:      a.Commit,
		BuildID:     a.BuildID,
		Environment: a.Environment,
		GoVersion:   runtime.Version(),
	}
}

func respond(status int, body any, extra map[string]string) events.APIGatewayV2HTTPResponse {
	payload, err := json.Marshal(body)
	if err != nil {
		status = http.StatusInternalServerError
		payload = []byte(`{"error":"internal error encoding response"}`)
	}
	headers := map[string]string{"Content-Type": "application/json"}
	for k, v := range extra {
		headers[k] = v
	}
	return events.APIGatewayV2HTTPResponse{StatusCode: status, Headers: headers, Body: string(payload)}
}

// truncate shortens s to at most n runes, so echoed input stays small.
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "..."
}
