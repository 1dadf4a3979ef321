package main

// hello.go: GET /hello?name= and GET /hello/{name}, and the name rule both share.

import (
	"net/http"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"
)

const maxNameLen = 64

type helloBody struct {
	Message string `json:"message"`
	Name    string `json:"name"`
}

func hello(req events.APIGatewayV2HTTPRequest) (int, any) {
	name, present := queryParam(req, "name")
	if !present {
		return http.StatusBadRequest, errorBody{"missing query parameter: name"}
	}
	return greet(name)
}

// helloPath serves GET /hello/{name}. API Gateway HTTP APIs deliver the decoded segment in
// pathParameters; a Function URL has no route, so the segment is read from the raw path then.
func helloPath(req events.APIGatewayV2HTTPRequest) (int, any) {
	if name, ok := req.PathParameters["name"]; ok {
		return greet(name)
	}
	path := req.RawPath
	if path == "" {
		path = req.RequestContext.HTTP.Path
	}
	name, err := url.PathUnescape(strings.TrimPrefix(path, "/hello/"))
	if err != nil {
		return http.StatusBadRequest, errorBody{"name is not a valid path segment"}
	}
	return greet(name)
}

func greet(name string) (int, any) {
	if msg := validateName(name); msg != "" {
		return http.StatusBadRequest, errorBody{msg}
	}
	return http.StatusOK, helloBody{Message: "Hello, " + name + "!", Name: name}
}

// queryParam reads a query parameter from the parsed map, falling back to rawQueryString
// (hand-written test events often carry only the raw form).
func queryParam(req events.APIGatewayV2HTTPRequest, key string) (string, bool) {
	if req.QueryStringParameters != nil {
		v, ok := req.QueryStringParameters[key]
		return v, ok
	}
	if req.RawQueryString == "" {
		return "", false
	}
	values, err := url.ParseQuery(req.RawQueryString)
	if err != nil {
		return "", false
	}
	if _, ok := values[key]; !ok {
		return "", false
	}
	return values.Get(key), true
}

// validateName returns "" for a valid name, otherwise the reason it is invalid.
// Valid: 1..64 characters, each a letter, a digit, a space, '-' or '_', not only spaces.
func validateName(name string) string {
	if !utf8.ValidString(name) {
		return "name must be valid UTF-8"
	}
	n := utf8.RuneCountInString(name)
	if n == 0 {
		return "name must not be empty"
	}
	if n > maxNameLen {
		return "name must be at most 64 characters"
	}
	blank := true
	for _, r := range name {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-' || r == '_':
			blank = false
		case r == ' ':
		default:
			return "name may contain only letters, digits, spaces, '-' and '_'"
		}
	}
	if blank {
		return "name must not be only spaces"
	}
	return ""
}
