package main

// s3client.go: PUT and GET of one object in one bucket, path-style, signed with sigv4.go.
// Only the standard library: the function's rules allow aws-lambda-go and nothing else.

import (
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

const maxObjectBytes = 1 << 20 // a heartbeat is ~200 bytes; refuse to read more than this

// s3Client talks to one bucket. TLS roots are the system's: on Linux Go's crypto/x509 reads
// SSL_CERT_FILE and SSL_CERT_DIR itself, so a custom CA bundle needs no code here.
type s3Client struct {
	Endpoint string // scheme://host[:port], no trailing slash
	Region   string
	Bucket   string
	Creds    credentials
	HTTP     *http.Client
	Now      func() time.Time
}

// s3Error is an S3 answer other than success.
type s3Error struct {
	Op, Key, Code, Message string
	Status                 int
}

func (e *s3Error) Error() string {
	text := fmt.Sprintf("S3 %s %s: HTTP %d", e.Op, e.Key, e.Status)
	if e.Code != "" {
		text += " " + e.Code
	}
	if e.Message != "" {
		text += ": " + e.Message
	}
	return text
}

// newS3ClientFromEnv reads what Lambda gives a function: the credentials, AWS_REGION, and the
// endpoint from AWS_ENDPOINT_URL_S3, else AWS_ENDPOINT_URL, else https://s3.<region>.amazonaws.com.
func newS3ClientFromEnv(getenv func(string) string, bucket string) *s3Client {
	region := getenv("AWS_REGION")
	endpoint := getenv("AWS_ENDPOINT_URL_S3")
	if endpoint == "" {
		endpoint = getenv("AWS_ENDPOINT_URL")
	}
	if endpoint == "" {
		endpoint = "https://s3." + region + ".amazonaws.com"
	}
	return &s3Client{
		Endpoint: strings.TrimRight(endpoint, "/"),
		Region:   region,
		Bucket:   bucket,
		Creds: credentials{getenv("AWS_ACCESS_KEY_ID"), getenv("AWS_SECRET_ACCESS_KEY"),
			getenv("AWS_SESSION_TOKEN")},
		HTTP: &http.Client{Timeout: 10 * time.Second},
		Now:  time.Now,
	}
}

// Put stores body under key.
func (c *s3Client) Put(ctx context.Context, key string, body []byte, contentType string) error {
	req, err := c.request(ctx, http.MethodPut, key, body)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", contentType)
	_, err = c.do(req, hexSHA256(body), "PUT", key)
	return err
}

// Get reads the object under key; errNotFound (wrapped) when S3 answers 404 NoSuchKey.
func (c *s3Client) Get(ctx context.Context, key string) ([]byte, error) {
	req, err := c.request(ctx, http.MethodGet, key, nil)
	if err != nil {
		return nil, err
	}
	return c.do(req, emptyPayloadSHA256, "GET", key)
}

func (c *s3Client) request(ctx context.Context, method, key string, body []byte) (*http.Request, error) {
	if c.Region == "" {
		return nil, fmt.Errorf("S3 %s %s: AWS_REGION is not set", method, key)
	}
	if c.Creds.AccessKeyID == "" || c.Creds.SecretAccessKey == "" {
		return nil, fmt.Errorf("S3 %s %s: AWS_ACCESS_KEY_ID or AWS_SECRET_ACCESS_KEY is not set", method, key)
	}
	base, err := url.Parse(c.Endpoint)
	if err != nil || base.Scheme == "" || base.Host == "" {
		return nil, fmt.Errorf("S3 endpoint %q is not a URL", c.Endpoint)
	}
	path := strings.TrimRight(base.Path, "/") + "/" + c.Bucket + "/" + key
	u := &url.URL{Scheme: base.Scheme, Host: base.Host, Path: path, RawPath: uriEncode(path, false)}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.ContentLength = int64(len(body))
	return req, nil
}

func (c *s3Client) do(req *http.Request, payloadHash, op, key string) ([]byte, error) {
	now := time.Now
	if c.Now != nil {
		now = c.Now
	}
	signV4(req, payloadHash, c.Creds, c.Region, "s3", now())
	client := c.HTTP
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("S3 %s %s: %w", op, key, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxObjectBytes+1))
	if err != nil {
		return nil, fmt.Errorf("S3 %s %s: reading the answer: %w", op, key, err)
	}
	if resp.StatusCode/100 == 2 {
		if len(data) > maxObjectBytes {
			return nil, fmt.Errorf("S3 %s %s: object is over %d bytes", op, key, maxObjectBytes)
		}
		return data, nil
	}
	var doc struct {
		Code    string `xml:"Code"`
		Message string `xml:"Message"`
	}
	_ = xml.Unmarshal(data, &doc) // an answer without an XML body (HEAD-like, proxies) keeps only its status
	e := &s3Error{Op: op, Key: key, Status: resp.StatusCode, Code: doc.Code, Message: truncate(doc.Message, 200)}
	if resp.StatusCode == http.StatusNotFound && (doc.Code == "NoSuchKey" || doc.Code == "") {
		return nil, fmt.Errorf("%w: %w", errNotFound, e)
	}
	return nil, e
}
