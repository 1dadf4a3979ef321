package main

// heartbeat.go: where the worker's heartbeat lives (s3://$HEARTBEAT_BUCKET/heartbeat/<env>.json)
// and the api's GET /heartbeat that reads it back.

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
)

// objectStore is the one-bucket storage the handlers need; s3Client implements it.
type objectStore interface {
	Put(ctx context.Context, key string, body []byte, contentType string) error
	Get(ctx context.Context, key string) ([]byte, error) // errNotFound when there is no such object
}

var errNotFound = errors.New("no such object")

// heartbeat is what the worker writes on every scheduled run.
type heartbeat struct {
	Function    string `json:"function"`
	Environment string `json:"environment"`
	Version     string `json:"version"`
	Time        string `json:"time"`     // the event's time (when the schedule fired)
	Received    string `json:"received"` // when this process handled it
}

// heartbeatKey is the object key of an environment's heartbeat.
func heartbeatKey(environment string) string {
	return "heartbeat/" + environment + ".json"
}

// heartbeatsFromEnv is the store of HEARTBEAT_BUCKET, or nil when the variable is not set.
func heartbeatsFromEnv(getenv func(string) string) objectStore {
	bucket := getenv("HEARTBEAT_BUCKET")
	if bucket == "" {
		return nil
	}
	return newS3ClientFromEnv(getenv, bucket)
}

// readHeartbeat answers GET /heartbeat: 200 with the stored JSON, 404 before the first
// heartbeat, 503 without a bucket, 502 when the store fails or holds something not JSON.
func (a app) readHeartbeat(ctx context.Context) (int, any) {
	if a.Heartbeats == nil {
		return http.StatusServiceUnavailable, errorBody{"no heartbeat store: HEARTBEAT_BUCKET is not set"}
	}
	key := heartbeatKey(a.Environment)
	body, err := a.Heartbeats.Get(ctx, key)
	switch {
	case errors.Is(err, errNotFound):
		return http.StatusNotFound, errorBody{"no heartbeat yet (" + key + ")"}
	case err != nil:
		return http.StatusBadGateway, errorBody{"heartbeat store: " + truncate(err.Error(), 200)}
	case !json.Valid(body):
		return http.StatusBadGateway, errorBody{"heartbeat store: " + key + " is not JSON"}
	}
	return http.StatusOK, json.RawMessage(body)
}
