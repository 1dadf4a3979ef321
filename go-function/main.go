// Command bootstrap is the example service's Lambda binary for the provided.al2023 runtime.
//
// One binary serves several functions: each function's configured Handler (the runtime puts it
// in _HANDLER) selects one of the handlers in registry.go. PIPELINE_HANDLERS=list prints the
// served names as JSON and exits, so the build can check a configuration against the binary.
// The build stamps version, commit and buildID through -ldflags -X main.name=value.
package main

import (
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
)

// Stamped at build time with -ldflags "-X main.version=... -X main.commit=... -X main.buildID=...".
var (
	version = "dev"
	commit  = "unknown"
	buildID = "unknown"
)

// newApp captures the stamped build values and the environment the process runs in.
func newApp(getenv func(string) string) app {
	return app{
		Version:     version,
		Commit:      commit,
		BuildID:     buildID,
		Environment: getenv("ENVIRONMENT"),
		Heartbeats:  heartbeatsFromEnv(getenv),
		Now:         time.Now,
	}
}

func main() {
	handler, code := selectHandler(os.Getenv, os.Stdout, os.Stderr)
	if handler == nil {
		os.Exit(code)
	}
	lambda.Start(handler)
}
