package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"runtime"
	"unicode"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"
)

const maxNameLen = 64

// app holds everything the handler reports; the handler itself reads no globals.
type app struct {
	Version     string
	Commit      string
	BuildID     string
	Environment string
}

// route is one known path: the only method it accepts and what answers it.
type route struct {
	method string
	serve  func(a app, req events.APIGatewayV2HTTPRequest) (int, any)
}

var routes = map[string]route{
	"/health":  {http.MethodGet, func(app, events.APIGatewayV2HTTPRequest) (int, any) { return health() }},
	"/version": {http.MethodGet, func(a app, _ events.APIGatewayV2HTTPRequest) (int, any) { return a.versionInfo() }},
	"/hello":   {http.MethodGet, func(_ app, req events.APIGatewayV2HTTPRequest) (int, any) { return hello(req) }},
}

type errorBody struct {
	Error string `json:"error"`
}

// handle answers one payload-v2 HTTP event. It never returns an error: every outcome,
// including bad input, is an HTTP response with a JSON body.
func (a app) handle(_ context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	path := req.RawPath
	if path == "" {
		path = req.RequestContext.HTTP.Path
	}
	method := req.RequestContext.HTTP.Method

	r, ok := routes[path]
	if !ok {
		return respond(http.StatusNotFound, errorBody{"no route for " + truncate(path, 128)}, nil), nil
	}
	if method != r.method {
		return respond(http.StatusMethodNotAllowed,
			errorBody{"method " + truncate(method, 16) + " not allowed on " + path},
			map[string]string{"Allow": r.method}), nil
	}
	status, body := r.serve(a, req)
	return respond(status, body, nil), nil
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

type helloBody struct {
	Message string `json:"message"`
	Name    string `json:"name"`
}

func hello(req events.APIGatewayV2HTTPRequest) (int, any) {
	name, present := queryParam(req, "name")
	if !present {
		return http.StatusBadRequest, errorBody{"missing query parameter: name"}
	}
	if msg := validateName(name); msg != "" {
		return http.StatusBadRequest, errorBody{msg}
	}
	return http.StatusOK, helloBody{Message: "Hello, " + name + "!", Name: name}
}

// queryParam reads a query parameter from the parsed map, falling back to rawQueryString
// (hand-written test events often carry only the raw form).
func queryParam(req events.APIGatewayV2HTTPRequest, key string) (string, bool) {
	if req.QueryStringParameters != nil {
		v, ok := req.QueryStringParameters[key]
		return v, ok
	}
	if req.RawQueryString == "" {
		return "", false
	}
	values, err := url.ParseQuery(req.RawQueryString)
	if err != nil {
		return "", false
	}
	if _, ok := values[key]; !ok {
		return "", false
	}
	return values.Get(key), true
}

// validateName returns "" for a valid name, otherwise the reason it is invalid.
// Valid: 1..64 characters, each a letter, a digit, a space, '-' or '_', not only spaces.
func validateName(name string) string {
	if !utf8.ValidString(name) {
		return "name must be valid UTF-8"
	}
	n := utf8.RuneCountInString(name)
	if n == 0 {
		return "name must not be empty"
	}
	if n > maxNameLen {
		return "name must be at most 64 characters"
	}
	blank := true
	for _, r := range name {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-' || r == '_':
			blank = false
		case r == ' ':
		default:
			return "name may contain only letters, digits, spaces, '-' and '_'"
		}
	}
	if blank {
		return "name must not be only spaces"
	}
	return ""
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
