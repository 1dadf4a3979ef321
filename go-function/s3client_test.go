package main

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

var signedAt = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// fakeS3 is a path-style S3 for one bucket that checks each request's SigV4 signature by
// signing what it received again (only the headers the client said it signed).
type fakeS3 struct {
	t       *testing.T
	mu      sync.Mutex
	objects map[string][]byte
	status  int    // when set, every request is answered with it and body
	body    string // the error document for status
	seen    []*http.Request
}

func (f *fakeS3) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.seen = append(f.seen, r)
	payload, _ := io.ReadAll(r.Body)
	if msg := f.verify(r, payload); msg != "" {
		f.t.Errorf("request %s %s: %s", r.Method, r.URL.Path, msg)
		w.WriteHeader(http.StatusForbidden)
		return
	}
	if f.status != 0 {
		w.WriteHeader(f.status)
		io.WriteString(w, f.body)
		return
	}
	key := strings.TrimPrefix(r.URL.Path, "/beats/")
	switch r.Method {
	case http.MethodPut:
		f.objects[key] = payload
	case http.MethodGet:
		body, ok := f.objects[key]
		if !ok {
			w.WriteHeader(http.StatusNotFound)
			io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>NoSuchKey</Code>`+
				`<Message>The specified key does not exist.</Message></Error>`)
			return
		}
		w.Write(body)
	}
}

func (f *fakeS3) verify(r *http.Request, payload []byte) string {
	if !strings.HasPrefix(r.URL.Path, "/beats/") {
		return "not a path-style URL of bucket beats"
	}
	if raw, _, _ := strings.Cut(r.RequestURI, "?"); raw != uriEncode(r.URL.Path, false) {
		return "sent path " + raw + " is not the signed (canonical) encoding " + uriEncode(r.URL.Path, false)
	}
	if got := r.Header.Get("X-Amz-Content-Sha256"); got != hexSHA256(payload) {
		return "x-amz-content-sha256 " + got + " is not the payload's"
	}
	auth := r.Header.Get("Authorization")
	_, list, ok := strings.Cut(auth, "SignedHeaders=")
	list, _, _ = strings.Cut(list, ",")
	if !ok || !strings.Contains(auth, "Credential=AKID/20260301/eu-west-1/s3/aws4_request,") {
		return "Authorization " + auth
	}
	again, _ := http.NewRequest(r.Method, "http://"+r.Host+r.URL.RequestURI(), nil)
	for _, name := range strings.Split(list, ";") {
		if name != "host" && !strings.HasPrefix(name, "x-amz-") {
			again.Header.Set(name, r.Header.Get(name))
		}
	}
	again.Header.Set("X-Amz-Security-Token", r.Header.Get("X-Amz-Security-Token"))
	if again.Header.Get("X-Amz-Security-Token") == "" {
		again.Header.Del("X-Amz-Security-Token")
	}
	signV4(again, r.Header.Get("X-Amz-Content-Sha256"), credentials{"AKID", "SECRET", "TOKEN"}, "eu-west-1",
		"s3", signedAt)
	if again.Header.Get("Authorization") != auth {
		return "signature does not match: " + auth
	}
	return ""
}

func newFake(t *testing.T) (*fakeS3, *s3Client) {
	fake := &fakeS3{t: t, objects: map[string][]byte{}}
	server := httptest.NewServer(fake)
	t.Cleanup(server.Close)
	client := newS3ClientFromEnv(envOf(map[string]string{
		"AWS_REGION": "eu-west-1", "AWS_ENDPOINT_URL_S3": server.URL + "/",
		"AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "SECRET", "AWS_SESSION_TOKEN": "TOKEN",
	}), "beats")
	client.Now = func() time.Time { return signedAt }
	return fake, client
}

func TestS3ClientPutThenGet(t *testing.T) {
	fake, client := newFake(t)
	ctx := context.Background()
	for _, key := range []string{"heartbeat/dev.json", "heartbeat/a b+c.json"} {
		body := []byte(`{"key":"` + key + `"}`)
		if err := client.Put(ctx, key, body, "application/json"); err != nil {
			t.Fatalf("Put %q: %v", key, err)
		}
		got, err := client.Get(ctx, key)
		if err != nil || string(got) != string(body) {
			t.Fatalf("Get %q = %q, %v", key, got, err)
		}
	}
	if _, err := client.Get(ctx, "heartbeat/prod.json"); !errors.Is(err, errNotFound) {
		t.Fatalf("Get of a missing key: %v, want errNotFound", err)
	}
	put := fake.seen[0]
	if put.Header.Get("Content-Type") != "application/json" || put.Header.Get("X-Amz-Security-Token") != "TOKEN" {
		t.Fatalf("PUT headers %v", put.Header)
	}
	if len(fake.seen) != 5 {
		t.Fatalf("%d requests, want 5", len(fake.seen))
	}
}

func TestS3ClientErrors(t *testing.T) {
	tests := []struct {
		name     string
		status   int
		body     string
		notFound bool
		has      string
	}{
		{"access denied", 403, `<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>`, false,
			"HTTP 403 AccessDenied: Access Denied"},
		{"no such bucket is not a missing object", 404, `<Error><Code>NoSuchBucket</Code></Error>`, false,
			"NoSuchBucket"},
		{"404 without a body", 404, "", true, "HTTP 404"},
		{"server error without XML", 500, "oops", false, "HTTP 500"},
		{"slow down", 503, `<Error><Code>SlowDown</Code></Error>`, false, "SlowDown"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fake, client := newFake(t)
			fake.status, fake.body = tc.status, tc.body
			_, getErr := client.Get(context.Background(), "heartbeat/dev.json")
			putErr := client.Put(context.Background(), "heartbeat/dev.json", []byte("{}"), "application/json")
			for op, err := range map[string]error{"GET": getErr, "PUT": putErr} {
				var s3err *s3Error
				if !errors.As(err, &s3err) || s3err.Status != tc.status || !strings.Contains(err.Error(), tc.has) {
					t.Fatalf("%s: err = %v, want an s3Error with %q", op, err, tc.has)
				}
				if op == "GET" && errors.Is(err, errNotFound) != tc.notFound {
					t.Fatalf("GET: errors.Is(err, errNotFound) = %v, want %v", !tc.notFound, tc.notFound)
				}
			}
		})
	}
}

func TestS3ClientRefusesToSendWithoutRegionOrCredentials(t *testing.T) {
	for _, drop := range []string{"AWS_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"} {
		t.Run(drop, func(t *testing.T) {
			fake, client := newFake(t)
			vars := map[string]string{"AWS_REGION": client.Region, "AWS_ACCESS_KEY_ID": "AKID",
				"AWS_SECRET_ACCESS_KEY": "SECRET", "AWS_ENDPOINT_URL": client.Endpoint}
			delete(vars, drop)
			bare := newS3ClientFromEnv(envOf(vars), "beats")
			if _, err := bare.Get(context.Background(), "k"); err == nil || !strings.Contains(err.Error(), drop) {
				t.Fatalf("err = %v, want one naming %s", err, drop)
			}
			if len(fake.seen) != 0 {
				t.Fatalf("a request was sent")
			}
		})
	}
}

func TestS3ClientEndpoint(t *testing.T) {
	tests := []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"AWS_REGION": "eu-west-1"}, "https://s3.eu-west-1.amazonaws.com"},
		{map[string]string{"AWS_REGION": "eu-west-1", "AWS_ENDPOINT_URL": "http://127.0.0.1:4566/"},
			"http://127.0.0.1:4566"},
		{map[string]string{"AWS_ENDPOINT_URL": "http://all:1", "AWS_ENDPOINT_URL_S3": "http://s3only:2"},
			"http://s3only:2"},
	}
	for _, tc := range tests {
		if got := newS3ClientFromEnv(envOf(tc.env), "b").Endpoint; got != tc.want {
			t.Errorf("endpoint for %v = %q, want %q", tc.env, got, tc.want)
		}
	}
}
