package main

// sigv4.go: AWS Signature Version 4 in the Authorization header, payload in a single chunk
// (what S3 documents in "Signature Calculations for the Authorization Header").

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"
)

const (
	sigv4Algorithm     = "AWS4-HMAC-SHA256"
	amzDateFormat      = "20060102T150405Z"
	emptyPayloadSHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
)

// credentials are what Lambda gives a function in AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and
// AWS_SESSION_TOKEN.
type credentials struct {
	AccessKeyID     string
	SecretAccessKey string
	SessionToken    string
}

// signV4 sets X-Amz-Date, X-Amz-Content-Sha256, X-Amz-Security-Token (with a session token) and
// Authorization on req. Every header already on req is signed, and host.
func signV4(req *http.Request, payloadHash string, creds credentials, region, service string, now time.Time) {
	t := now.UTC()
	amzDate := t.Format(amzDateFormat)
	scope := t.Format("20060102") + "/" + region + "/" + service + "/aws4_request"
	req.Header.Set("X-Amz-Date", amzDate)
	req.Header.Set("X-Amz-Content-Sha256", payloadHash)
	if creds.SessionToken != "" {
		req.Header.Set("X-Amz-Security-Token", creds.SessionToken)
	}
	canonical, signed := canonicalRequest(req, payloadHash)
	toSign := strings.Join([]string{sigv4Algorithm, amzDate, scope, hexSHA256([]byte(canonical))}, "\n")
	key := []byte("AWS4" + creds.SecretAccessKey)
	for _, part := range []string{t.Format("20060102"), region, service, "aws4_request"} {
		key = hmacSHA256(key, part)
	}
	signature := hex.EncodeToString(hmacSHA256(key, toSign))
	req.Header.Set("Authorization", fmt.Sprintf("%s Credential=%s/%s,SignedHeaders=%s,Signature=%s",
		sigv4Algorithm, creds.AccessKeyID, scope, signed, signature))
}

// canonicalRequest is SigV4's canonical form of req and the signed header list.
func canonicalRequest(req *http.Request, payloadHash string) (string, string) {
	host := req.Host
	if host == "" {
		host = req.URL.Host
	}
	values := map[string]string{"host": host}
	for name, vals := range req.Header {
		lower := strings.ToLower(name)
		if lower == "authorization" || lower == "user-agent" {
			continue
		}
		trimmed := make([]string, len(vals))
		for i, v := range vals {
			trimmed[i] = strings.Join(strings.Fields(v), " ")
		}
		values[lower] = strings.Join(trimmed, ",")
	}
	names := make([]string, 0, len(values))
	for name := range values {
		names = append(names, name)
	}
	sort.Strings(names)
	var headers strings.Builder
	for _, name := range names {
		headers.WriteString(name + ":" + values[name] + "\n")
	}
	signed := strings.Join(names, ";")
	path := req.URL.Path
	if path == "" {
		path = "/"
	}
	lines := []string{req.Method, uriEncode(path, false), canonicalQuery(req.URL.Query()), headers.String(),
		signed, payloadHash}
	return strings.Join(lines, "\n"), signed
}

// canonicalQuery sorts the parameters by name (then value) and encodes both strictly.
func canonicalQuery(q url.Values) string {
	pairs := make([]string, 0, len(q))
	for name, vals := range q {
		for _, v := range vals {
			pairs = append(pairs, uriEncode(name, true)+"="+uriEncode(v, true))
		}
	}
	sort.Strings(pairs)
	return strings.Join(pairs, "&")
}

// uriEncode percent-encodes every byte but A-Z a-z 0-9 - _ . ~ (and '/' unless encodeSlash),
// with upper-case hex, as SigV4's UriEncode does.
func uriEncode(s string, encodeSlash bool) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z', c >= '0' && c <= '9',
			c == '-', c == '_', c == '.', c == '~', c == '/' && !encodeSlash:
			b.WriteByte(c)
		default:
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

func hexSHA256(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

func hmacSHA256(key []byte, data string) []byte {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(data))
	return mac.Sum(nil)
}
