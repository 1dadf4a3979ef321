package main

// registry.go: which handler names this binary serves, and how a process picks one.

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
)

// listEnv is the variable the build sets (to listValue) to ask the binary what it serves.
const (
	listEnv   = "PIPELINE_HANDLERS"
	listValue = "list"
)

// aliases are _HANDLER values that mean another handler: "bootstrap" is what the single
// function of earlier releases is configured with, "" is what a runtime without _HANDLER gives.
var aliases = map[string]string{"": "api", "bootstrap": "api"}

// handlers maps each served name to its Lambda handler (a function lambda.Start accepts).
func handlers(a app) map[string]any {
	return map[string]any{
		"api":    a.handle,
		"worker": a.worker,
	}
}

// handlerNames is the sorted list of served names (aliases are not listed).
func handlerNames() []string {
	names := make([]string, 0, 2)
	for name := range handlers(app{}) {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// resolve returns the handler a _HANDLER value selects, or nil when the binary does not serve it.
func resolve(a app, name string) any {
	if target, ok := aliases[name]; ok {
		name = target
	}
	return handlers(a)[name]
}

// selectHandler decides what the process does from its environment: print the listing (nil, 0),
// refuse an unknown handler or listing mode with one line on stderr (nil, non-zero), or return
// the handler to start the Lambda loop with.
func selectHandler(getenv func(string) string, stdout, stderr io.Writer) (any, int) {
	switch mode := getenv(listEnv); mode {
	case "":
	case listValue:
		text, _ := json.Marshal(map[string][]string{"handlers": handlerNames()})
		fmt.Fprintln(stdout, string(text))
		return nil, 0
	default:
		fmt.Fprintf(stderr, "%s=%q: only %q is understood\n", listEnv, mode, listValue)
		return nil, 2
	}
	name := getenv("_HANDLER")
	if h := resolve(newApp(getenv), name); h != nil {
		return h, 0
	}
	fmt.Fprintf(stderr, "handler %q (_HANDLER) is not served by this binary; it serves: %s\n",
		name, strings.Join(handlerNames(), ", "))
	return nil, 1
}
