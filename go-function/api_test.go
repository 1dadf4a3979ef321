package main

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"runtime"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
)

func request(method, path string, query map[string]string) events.APIGatewayV2HTTPRequest {
	req := events.APIGatewayV2HTTPRequest{Version: "2.0", RawPath: path, QueryStringParameters: query}
	req.RequestContext.HTTP.Method = method
	req.RequestContext.HTTP.Path = path
	return req
}

// withName adds the path parameter API Gateway HTTP APIs deliver for the route GET /hello/{name}.
func withName(req events.APIGatewayV2HTTPRequest, name string) events.APIGatewayV2HTTPRequest {
	req.PathParameters = map[string]string{"name": name}
	req.RouteKey = "GET /hello/{name}"
	return req
}

var testApp = app{Version: "1.2.3", Commit: "abc123", BuildID: "build-xyz", Environment: "test"}

func call(t *testing.T, a app, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, map[string]any) {
	t.Helper()
	resp, err := a.handle(context.Background(), req)
	if err != nil {
		t.Fatalf("handle returned error: %v", err)
	}
	if ct := resp.Headers["Content-Type"]; ct != "application/json" {
		t.Fatalf("Content-Type = %q, want application/json", ct)
	}
	var body map[string]any
	if err := json.Unmarshal([]byte(resp.Body), &body); err != nil {
		t.Fatalf("body is not a JSON object: %q: %v", resp.Body, err)
	}
	return resp, body
}

func TestRoutes(t *testing.T) {
	long := strings.Repeat("a", 64)
	tests := []struct {
		name      string
		req       events.APIGatewayV2HTTPRequest
		status    int
		wantBody  map[string]any // exact match when set
		wantField string         // key that must be present (e.g. "error")
		allow     string         // expected Allow header on 405
	}{
		{name: "health", req: request("GET", "/health", nil), status: 200,
			wantBody: map[string]any{"status": "ok"}},
		{name: "hello", req: request("GET", "/hello", map[string]string{"name": "Ada"}), status: 200,
			wantBody: map[string]any{"message": "Hello, Ada!", "name": "Ada"}},
		{name: "hello with space dash underscore digits", req: request("GET", "/hello",
			map[string]string{"name": "Ada L-9_x"}), status: 200,
			wantBody: map[string]any{"message": "Hello, Ada L-9_x!", "name": "Ada L-9_x"}},
		{name: "hello unicode letters", req: request("GET", "/hello", map[string]string{"name": "Zoë"}),
			status: 200, wantBody: map[string]any{"message": "Hello, Zoë!", "name": "Zoë"}},
		{name: "hello 64 chars", req: request("GET", "/hello", map[string]string{"name": long}), status: 200,
			wantBody: map[string]any{"message": "Hello, " + long + "!", "name": long}},
		{name: "hello name missing", req: request("GET", "/hello", nil), status: 400, wantField: "error"},
		{name: "hello other params only", req: request("GET", "/hello", map[string]string{"x": "y"}),
			status: 400, wantField: "error"},
		{name: "hello name empty", req: request("GET", "/hello", map[string]string{"name": ""}),
			status: 400, wantField: "error"},
		{name: "hello name only spaces", req: request("GET", "/hello", map[string]string{"name": "   "}),
			status: 400, wantField: "error"},
		{name: "hello name 65 chars", req: request("GET", "/hello", map[string]string{"name": long + "a"}),
			status: 400, wantField: "error"},
		{name: "hello name with markup", req: request("GET", "/hello",
			map[string]string{"name": "<script>"}), status: 400, wantField: "error"},
		{name: "hello name with slash", req: request("GET", "/hello", map[string]string{"name": "a/b"}),
			status: 400, wantField: "error"},
		{name: "hello name invalid utf8", req: request("GET", "/hello", map[string]string{"name": "a\xffb"}),
			status: 400, wantField: "error"},
		{name: "health POST", req: request("POST", "/health", nil), status: 405, wantField: "error",
			allow: "GET"},
		{name: "version DELETE", req: request("DELETE", "/version", nil), status: 405, wantField: "error",
			allow: "GET"},
		{name: "hello PUT", req: request("PUT", "/hello", map[string]string{"name": "Ada"}), status: 405,
			wantField: "error", allow: "GET"},
		{name: "unknown path", req: request("GET", "/nope", nil), status: 404, wantField: "error"},
		{name: "root path", req: request("GET", "/", nil), status: 404, wantField: "error"},
		{name: "trailing slash is a different path", req: request("GET", "/health/", nil), status: 404,
			wantField: "error"},
		{name: "unknown path wrong method", req: request("POST", "/nope", nil), status: 404,
			wantField: "error"},
		{name: "empty event", req: events.APIGatewayV2HTTPRequest{}, status: 404, wantField: "error"},
		{name: "hello path parameter", req: withName(request("GET", "/hello/Ada", nil), "Ada"), status: 200,
			wantBody: map[string]any{"message": "Hello, Ada!", "name": "Ada"}},
		{name: "hello path parameter is decoded by API Gateway", req: withName(
			request("GET", "/hello/Ada%20L", nil), "Ada L"), status: 200,
			wantBody: map[string]any{"message": "Hello, Ada L!", "name": "Ada L"}},
		{name: "hello path parameter wins over the path", req: withName(request("GET", "/hello/x", nil), "Grace"),
			status: 200, wantBody: map[string]any{"message": "Hello, Grace!", "name": "Grace"}},
		{name: "hello path without parameters (Function URL)", req: request("GET", "/hello/Zo%C3%AB", nil),
			status: 200, wantBody: map[string]any{"message": "Hello, Zoë!", "name": "Zoë"}},
		{name: "hello path name with markup", req: withName(request("GET", "/hello/x", nil), "<b>"),
			status: 400, wantField: "error"},
		{name: "hello path name 65 chars", req: withName(request("GET", "/hello/"+long+"a", nil), long+"a"),
			status: 400, wantField: "error"},
		{name: "hello path encoded slash", req: request("GET", "/hello/a%2Fb", nil), status: 400,
			wantField: "error"},
		{name: "hello path only spaces", req: request("GET", "/hello/%20%20", nil), status: 400,
			wantField: "error"},
		{name: "hello path bad escape", req: request("GET", "/hello/%zz", nil), status: 400, wantField: "error"},
		{name: "hello path empty segment", req: request("GET", "/hello/", nil), status: 404, wantField: "error"},
		{name: "hello path two segments", req: request("GET", "/hello/a/b", nil), status: 404,
			wantField: "error"},
		{name: "hello path POST", req: withName(request("POST", "/hello/Ada", nil), "Ada"), status: 405,
			wantField: "error", allow: "GET"},
		{name: "heartbeat POST", req: request("POST", "/heartbeat", nil), status: 405, wantField: "error",
			allow: "GET"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := call(t, testApp, tc.req)
			if resp.StatusCode != tc.status {
				t.Fatalf("status = %d, want %d (body %s)", resp.StatusCode, tc.status, resp.Body)
			}
			if tc.wantBody != nil {
				if len(body) != len(tc.wantBody) {
					t.Fatalf("body = %v, want %v", body, tc.wantBody)
				}
				for k, v := range tc.wantBody {
					if body[k] != v {
						t.Fatalf("body[%q] = %v, want %v", k, body[k], v)
					}
				}
			}
			if tc.wantField != "" {
				msg, ok := body[tc.wantField].(string)
				if !ok || msg == "" {
					t.Fatalf("body %s lacks a non-empty %q string", resp.Body, tc.wantField)
				}
			}
			if got := resp.Headers["Allow"]; got != tc.allow {
				t.Fatalf("Allow header = %q, want %q", got, tc.allow)
			}
		})
	}
}

func TestHelloRawQueryStringFallback(t *testing.T) {
	tests := []struct {
		raw    string
		status int
		name   string
	}{
		{"name=Grace%20Hopper", 200, "Grace Hopper"},
		{"a=1&name=Bob", 200, "Bob"},
		{"name=", 400, ""},
		{"other=1", 400, ""},
		{"", 400, ""},
		{"name=%zz", 400, ""}, // malformed escape
	}
	for _, tc := range tests {
		t.Run(tc.raw, func(t *testing.T) {
			req := request("GET", "/hello", nil)
			req.RawQueryString = tc.raw
			resp, body := call(t, testApp, req)
			if resp.StatusCode != tc.status {
				t.Fatalf("status = %d, want %d (body %s)", resp.StatusCode, tc.status, resp.Body)
			}
			if tc.status == 200 && body["name"] != tc.name {
				t.Fatalf("name = %v, want %q", body["name"], tc.name)
			}
		})
	}
}

func TestPathFromRequestContextWhenRawPathMissing(t *testing.T) {
	req := request("GET", "", nil)
	req.RequestContext.HTTP.Path = "/health"
	resp, body := call(t, testApp, req)
	if resp.StatusCode != http.StatusOK || body["status"] != "ok" {
		t.Fatalf("got %d %s", resp.StatusCode, resp.Body)
	}
}

func TestVersionReportsAppValues(t *testing.T) {
	resp, body := call(t, testApp, request("GET", "/version", nil))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status = %d", resp.StatusCode)
	}
	want := map[string]any{
		"version": "1.2.3", "commit": "abc123", "build_id": "build-xyz",
		"environment": "test", "go_version": runtime.Version(),
	}
	for k, v := range want {
		if body[k] != v {
			t.Errorf("body[%q] = %v, want %v", k, body[k], v)
		}
	}
}

// TestNewAppReadsStampedValuesAndEnvironment proves that what -ldflags -X writes into the
// package variables, and the ENVIRONMENT variable, are what /version reports.
func TestNewAppReadsStampedValuesAndEnvironment(t *testing.T) {
	oldV, oldC, oldB := version, commit, buildID
	t.Cleanup(func() { version, commit, buildID = oldV, oldC, oldB })
	version, commit, buildID = "9.9.9", "deadbeef", "bid-42"
	t.Setenv("ENVIRONMENT", "prod")

	_, body := call(t, newApp(os.Getenv), request("GET", "/version", nil))
	for k, v := range map[string]string{"version": "9.9.9", "commit": "deadbeef", "build_id": "bid-42",
		"environment": "prod"} {
		if body[k] != v {
			t.Errorf("body[%q] = %v, want %q", k, body[k], v)
		}
	}
}

func TestDefaultsWhenNotStamped(t *testing.T) {
	t.Setenv("ENVIRONMENT", "")
	t.Setenv("HEARTBEAT_BUCKET", "")
	a := newApp(os.Getenv)
	if a.Version != "dev" || a.Commit != "unknown" || a.BuildID != "unknown" || a.Environment != "" ||
		a.Heartbeats != nil {
		t.Fatalf("unstamped defaults = %+v", a)
	}
}

func TestLongPathIsTruncatedInError(t *testing.T) {
	_, body := call(t, testApp, request("GET", "/"+strings.Repeat("x", 1000), nil))
	msg, _ := body["error"].(string)
	if len(msg) > 200 {
		t.Fatalf("error message too long: %d bytes", len(msg))
	}
}
