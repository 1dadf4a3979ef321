package main

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

var exampleCreds = credentials{AccessKeyID: "AKIAIOSFODNN7EXAMPLE",
	SecretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}

// TestSignV4MatchesS3Example is the "GET Object" example of the S3 API reference, "Signature
// Calculations for the Authorization Header: Transferring Payload in a Single Chunk".
func TestSignV4MatchesS3Example(t *testing.T) {
	req, _ := http.NewRequest(http.MethodGet, "https://examplebucket.s3.amazonaws.com/test.txt", nil)
	req.Header.Set("Range", "bytes=0-9")
	signV4(req, emptyPayloadSHA256, exampleCreds, "us-east-1", "s3", time.Date(2013, 5, 24, 0, 0, 0, 0, time.UTC))

	wantCanonical := strings.Join([]string{
		"GET", "/test.txt", "",
		"host:examplebucket.s3.amazonaws.com", "range:bytes=0-9",
		"x-amz-content-sha256:" + emptyPayloadSHA256, "x-amz-date:20130524T000000Z", "",
		"host;range;x-amz-content-sha256;x-amz-date", emptyPayloadSHA256,
	}, "\n")
	canonical, _ := canonicalRequest(req, emptyPayloadSHA256)
	if canonical != wantCanonical {
		t.Fatalf("canonical request:\n%s\nwant:\n%s", canonical, wantCanonical)
	}
	want := "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request," +
		"SignedHeaders=host;range;x-amz-content-sha256;x-amz-date," +
		"Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"
	if got := req.Header.Get("Authorization"); got != want {
		t.Fatalf("Authorization:\n%s\nwant:\n%s", got, want)
	}
}

func TestSignV4SessionTokenIsSentAndSigned(t *testing.T) {
	at := time.Date(2013, 5, 24, 0, 0, 0, 0, time.UTC)
	sign := func(creds credentials) *http.Request {
		req, _ := http.NewRequest(http.MethodGet, "https://examplebucket.s3.amazonaws.com/test.txt", nil)
		signV4(req, emptyPayloadSHA256, creds, "us-east-1", "s3", at)
		return req
	}
	plain := sign(exampleCreds)
	withToken := exampleCreds
	withToken.SessionToken = "token/+="
	tokened := sign(withToken)
	if plain.Header.Get("X-Amz-Security-Token") != "" {
		t.Fatalf("token header without a token")
	}
	if got := tokened.Header.Get("X-Amz-Security-Token"); got != "token/+=" {
		t.Fatalf("X-Amz-Security-Token = %q", got)
	}
	auth := tokened.Header.Get("Authorization")
	if !strings.Contains(auth, "SignedHeaders=host;x-amz-content-sha256;x-amz-date;x-amz-security-token,") {
		t.Fatalf("token not signed: %s", auth)
	}
	if auth == plain.Header.Get("Authorization") {
		t.Fatalf("the token did not change the signature")
	}
}

func TestURIEncode(t *testing.T) {
	tests := []struct {
		in          string
		encodeSlash bool
		want        string
	}{
		{"/examplebucket/heartbeat/dev.json", false, "/examplebucket/heartbeat/dev.json"},
		{"AZaz09-_.~", true, "AZaz09-_.~"},
		{"/test$file.text", false, "/test%24file.text"},
		{"a b+c", false, "a%20b%2Bc"},
		{"a/b", true, "a%2Fb"},
		{"Zoë", false, "Zo%C3%AB"},
		{"*", false, "%2A"},
	}
	for _, tc := range tests {
		if got := uriEncode(tc.in, tc.encodeSlash); got != tc.want {
			t.Errorf("uriEncode(%q, %v) = %q, want %q", tc.in, tc.encodeSlash, got, tc.want)
		}
	}
}

func TestCanonicalQuerySortsAndEncodes(t *testing.T) {
	req, _ := http.NewRequest(http.MethodGet, "https://b.s3.amazonaws.com/?prefix=J&max-keys=2&x=a%20b&lifecycle", nil)
	if got := canonicalQuery(req.URL.Query()); got != "lifecycle=&max-keys=2&prefix=J&x=a%20b" {
		t.Fatalf("canonical query = %q", got)
	}
}
