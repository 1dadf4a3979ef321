package main

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

var (
	fired    = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	received = time.Date(2026, 3, 1, 12, 0, 0, 250_000_000, time.UTC)
)

func scheduled(detailType string, at time.Time) events.EventBridgeEvent {
	return events.EventBridgeEvent{Version: "0", ID: "e-1", DetailType: detailType, Source: "aws.events",
		AccountID: "111111111111", Time: at, Region: "eu-west-1",
		Resources: []string{"arn:aws:events:eu-west-1:111111111111:rule/tick"}, Detail: json.RawMessage("{}")}
}

func TestWorker(t *testing.T) {
	want := heartbeat{Function: "worker", Environment: "dev", Version: "1.2.3",
		Time: "2026-03-01T12:00:00Z", Received: "2026-03-01T12:00:00.25Z"}
	tests := []struct {
		name    string
		event   events.EventBridgeEvent
		store   *memStore // nil: no HEARTBEAT_BUCKET
		failPut error
		wantErr string // substring; "" means success
	}{
		{name: "scheduled, stored", event: scheduled("Scheduled Event", fired), store: newMemStore()},
		{name: "scheduled, no bucket", event: scheduled("Scheduled Event", fired)},
		{name: "event time in another zone is reported in UTC", event: scheduled("Scheduled Event",
			fired.In(time.FixedZone("x", 3600))), store: newMemStore()},
		{name: "not a scheduled event", event: scheduled("Object Created", fired), store: newMemStore(),
			wantErr: `detail-type "Object Created"`},
		{name: "empty event", event: events.EventBridgeEvent{}, wantErr: "detail-type"},
		{name: "no time", event: scheduled("Scheduled Event", time.Time{}), wantErr: "no time"},
		{name: "store fails", event: scheduled("Scheduled Event", fired), store: newMemStore(),
			failPut: errors.New("S3 PUT: HTTP 403 AccessDenied"), wantErr: "AccessDenied"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := app{Version: "1.2.3", Environment: "dev", Now: func() time.Time { return received }}
			if tc.store != nil {
				tc.store.err = tc.failPut
				a.Heartbeats = tc.store
			}
			got, err := a.worker(context.Background(), tc.event)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tc.wantErr)
				}
				if tc.store != nil && len(tc.store.objects) != 0 {
					t.Fatalf("stored %v on a failed run", tc.store.objects)
				}
				return
			}
			if err != nil || got != want {
				t.Fatalf("worker = %+v, %v; want %+v", got, err, want)
			}
			if tc.store == nil {
				return
			}
			var stored heartbeat
			if err := json.Unmarshal(tc.store.objects["heartbeat/dev.json"], &stored); err != nil || stored != want {
				t.Fatalf("stored %q (%v), want %+v", tc.store.objects, err, want)
			}
			if ct := tc.store.types["heartbeat/dev.json"]; ct != "application/json" {
				t.Fatalf("content type %q", ct)
			}
		})
	}
}

func TestHeartbeatJSONFieldNames(t *testing.T) {
	text, _ := json.Marshal(heartbeat{"worker", "dev", "1", "t", "r"})
	if string(text) != `{"function":"worker","environment":"dev","version":"1","time":"t","received":"r"}` {
		t.Fatalf("heartbeat JSON = %s", text)
	}
}
