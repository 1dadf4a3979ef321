package main

import (
	"errors"
	"net/http"
	"testing"
)

func TestHeartbeatRoute(t *testing.T) {
	stored := `{"function":"worker","environment":"test","version":"1","time":"a","received":"b"}`
	tests := []struct {
		name    string
		objects map[string]string
		err     error
		noStore bool
		status  int
		want    map[string]any // exact body when set; else an "error" field is required
	}{
		{name: "stored heartbeat", objects: map[string]string{"heartbeat/test.json": stored}, status: 200,
			want: map[string]any{"function": "worker", "environment": "test", "version": "1", "time": "a",
				"received": "b"}},
		{name: "none yet", objects: map[string]string{}, status: http.StatusNotFound},
		{name: "only another environment's", objects: map[string]string{"heartbeat/prod.json": stored},
			status: http.StatusNotFound},
		{name: "no bucket configured", noStore: true, status: http.StatusServiceUnavailable},
		{name: "store fails", err: errors.New("S3 GET: HTTP 403 AccessDenied"), status: http.StatusBadGateway},
		{name: "stored object is not JSON", objects: map[string]string{"heartbeat/test.json": "<html>"},
			status: http.StatusBadGateway},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := testApp
			if !tc.noStore {
				store := newMemStore()
				store.err = tc.err
				for k, v := range tc.objects {
					store.objects[k] = []byte(v)
				}
				a.Heartbeats = store
			}
			resp, body := call(t, a, request("GET", "/heartbeat", nil))
			if resp.StatusCode != tc.status {
				t.Fatalf("status = %d, want %d (%s)", resp.StatusCode, tc.status, resp.Body)
			}
			if tc.want == nil {
				if msg, _ := body["error"].(string); msg == "" || len(body) != 1 {
					t.Fatalf("body %s is not {\"error\": ...}", resp.Body)
				}
				return
			}
			if len(body) != len(tc.want) {
				t.Fatalf("body = %v, want %v", body, tc.want)
			}
			for k, v := range tc.want {
				if body[k] != v {
					t.Fatalf("body[%q] = %v, want %v", k, body[k], v)
				}
			}
		})
	}
}

func TestHeartbeatsFromEnv(t *testing.T) {
	if store := heartbeatsFromEnv(envOf(nil)); store != nil {
		t.Fatalf("no HEARTBEAT_BUCKET gave a store: %#v", store)
	}
	store := heartbeatsFromEnv(envOf(map[string]string{"HEARTBEAT_BUCKET": "beats", "AWS_REGION": "eu-west-1"}))
	c, ok := store.(*s3Client)
	if !ok || c.Bucket != "beats" || c.Region != "eu-west-1" {
		t.Fatalf("store = %#v", store)
	}
}

// envOf is a getenv over a map.
func envOf(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}
