// Command bootstrap is the greeter Lambda function for the provided.al2023 runtime.
//
// It serves Lambda Function URL and API Gateway HTTP API (payload format 2.0) events.
// The build stamps version, commit and buildID through -ldflags -X main.name=value.
package main

import (
	"os"

	"github.com/aws/aws-lambda-go/lambda"
)

// Stamped at build time with -ldflags "-X main.version=... -X main.commit=... -X main.buildID=...".
var (
	version = "dev"
	commit  = "unknown"
	buildID = "unknown"
)

// newApp captures the stamped build values and the environment the process runs in.
func newApp() app {
	return app{
		Version:     version,
		Commit:      commit,
		BuildID:     buildID,
		Environment: os.Getenv("ENVIRONMENT"),
	}
}

func main() {
	lambda.Start(newApp().handle)
}
