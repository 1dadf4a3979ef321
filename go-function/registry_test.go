package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/lambda"
)

// invokeJSON runs a registry handler the way the Lambda loop does (aws-lambda-go's reflection
// over the function's signature, JSON in and out).
func invokeJSON(t *testing.T, h any, event any) map[string]any {
	t.Helper()
	payload, _ := json.Marshal(event)
	out, err := lambda.NewHandler(h).Invoke(context.Background(), payload)
	if err != nil {
		t.Fatalf("invoke: %v", err)
	}
	var body map[string]any
	if err := json.Unmarshal(out, &body); err != nil {
		t.Fatalf("answer %q is not a JSON object", out)
	}
	return body
}

func TestSelectHandlerServesEachName(t *testing.T) {
	health := request("GET", "/health", nil)
	tests := []struct {
		handler string
		event   any
		key     string // a field the answer must hold, with want
		want    any
	}{
		{"api", health, "statusCode", float64(200)},
		{"bootstrap", health, "statusCode", float64(200)}, // the single function of earlier releases
		{"", health, "statusCode", float64(200)},          // no _HANDLER at all
		{"worker", scheduled("Scheduled Event", fired), "function", "worker"},
	}
	for _, tc := range tests {
		t.Run("handler="+tc.handler, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			env := envOf(map[string]string{"_HANDLER": tc.handler, "ENVIRONMENT": "dev"})
			h, code := selectHandler(env, &stdout, &stderr)
			if h == nil || code != 0 || stdout.Len()+stderr.Len() != 0 {
				t.Fatalf("selectHandler = %v, %d, %q, %q", h, code, stdout.String(), stderr.String())
			}
			if got := invokeJSON(t, h, tc.event)[tc.key]; got != tc.want {
				t.Fatalf("answer[%q] = %v, want %v", tc.key, got, tc.want)
			}
		})
	}
}

func TestSelectHandlerRefusesOrLists(t *testing.T) {
	tests := []struct {
		name      string
		env       map[string]string
		code      int
		stdout    string
		stderrHas []string
	}{
		{name: "listing", env: map[string]string{"PIPELINE_HANDLERS": "list"}, code: 0,
			stdout: `{"handlers":["api","worker"]}` + "\n"},
		{name: "listing wins over _HANDLER", env: map[string]string{"PIPELINE_HANDLERS": "list",
			"_HANDLER": "nope"}, code: 0, stdout: `{"handlers":["api","worker"]}` + "\n"},
		{name: "unknown listing mode", env: map[string]string{"PIPELINE_HANDLERS": "all"}, code: 2,
			stderrHas: []string{`"all"`, `"list"`}},
		{name: "unknown handler", env: map[string]string{"_HANDLER": "billing"}, code: 1,
			stderrHas: []string{`"billing"`, "serves: api, worker"}},
		{name: "handler names are case-sensitive", env: map[string]string{"_HANDLER": "API"}, code: 1,
			stderrHas: []string{`"API"`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			h, code := selectHandler(envOf(tc.env), &stdout, &stderr)
			if h != nil || code != tc.code || stdout.String() != tc.stdout {
				t.Fatalf("selectHandler = %v, %d, stdout %q", h, code, stdout.String())
			}
			line := stderr.String()
			if len(tc.stderrHas) == 0 && line != "" {
				t.Fatalf("stderr = %q, want nothing", line)
			}
			if len(tc.stderrHas) > 0 && (strings.Count(line, "\n") != 1 || !strings.HasSuffix(line, "\n")) {
				t.Fatalf("stderr = %q, want one line", line)
			}
			for _, part := range tc.stderrHas {
				if !strings.Contains(line, part) {
					t.Fatalf("stderr %q lacks %q", line, part)
				}
			}
		})
	}
}

func TestHandlerNamesAreSortedAndAliasesResolveToServedNames(t *testing.T) {
	names := handlerNames()
	if strings.Join(names, ",") != "api,worker" {
		t.Fatalf("handlerNames = %v", names)
	}
	for alias, target := range aliases {
		if handlers(app{})[target] == nil {
			t.Fatalf("alias %q points at %q, which is not served", alias, target)
		}
	}
}
