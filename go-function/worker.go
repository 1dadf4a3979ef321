package main

// worker.go: the "worker" handler, run by an EventBridge schedule; it writes and returns a heartbeat.

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

const scheduledDetailType = "Scheduled Event"

// worker handles one scheduled event: it builds the heartbeat, stores it when a bucket is
// configured (a failed write fails the invocation) and returns it.
func (a app) worker(ctx context.Context, event events.EventBridgeEvent) (heartbeat, error) {
	if event.DetailType != scheduledDetailType {
		return heartbeat{}, fmt.Errorf("worker: detail-type %q is not %q", truncate(event.DetailType, 64),
			scheduledDetailType)
	}
	if event.Time.IsZero() {
		return heartbeat{}, fmt.Errorf("worker: the event has no time")
	}
	now := time.Now
	if a.Now != nil {
		now = a.Now
	}
	beat := heartbeat{
		Function:    "worker",
		Environment: a.Environment,
		Version:     a.Version,
		Time:        event.Time.UTC().Format(time.RFC3339),
		Received:    now().UTC().Format(time.RFC3339Nano),
	}
	if a.Heartbeats != nil {
		body, err := json.Marshal(beat)
		if err != nil {
			return heartbeat{}, err
		}
		if err := a.Heartbeats.Put(ctx, heartbeatKey(a.Environment), body, "application/json"); err != nil {
			return heartbeat{}, fmt.Errorf("worker: storing the heartbeat: %w", err)
		}
	}
	return beat, nil
}
