package main

import (
	"bytes"
	"context"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestHelperProcess is not a test: the tests below run the test binary again with
// GO_FUNCTION_HELPER set, and then it is the process under test.
func TestHelperProcess(t *testing.T) {
	switch os.Getenv("GO_FUNCTION_HELPER") {
	case "main":
		main()
		os.Exit(0) // lambda.Start never returns; the listing and refusals exit in main
	case "s3get":
		_, err := newS3ClientFromEnv(os.Getenv, "beats").Get(context.Background(), "heartbeat/dev.json")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
}

func helper(t *testing.T, kind string, env ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$")
	cmd.Env = append([]string{"GO_FUNCTION_HELPER=" + kind, "PATH=" + os.Getenv("PATH")}, env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatalf("running the helper: %v", err)
	}
	return cmd.ProcessState.ExitCode(), stdout.String(), stderr.String()
}

func TestMainProcess(t *testing.T) {
	tests := []struct {
		name   string
		env    []string
		code   int
		stdout string
		stderr string // substring of the one stderr line
	}{
		{"listing exits 0 without the Lambda loop", []string{"PIPELINE_HANDLERS=list"}, 0,
			`{"handlers":["api","worker"]}` + "\n", ""},
		{"unknown handler exits non-zero at start", []string{"_HANDLER=billing"}, 1, "",
			`handler "billing" (_HANDLER) is not served by this binary; it serves: api, worker`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := helper(t, "main", tc.env...)
			if code != tc.code || stdout != tc.stdout {
				t.Fatalf("exit %d, stdout %q (stderr %q)", code, stdout, stderr)
			}
			if tc.stderr == "" && stderr != "" || tc.stderr != "" &&
				(!strings.Contains(stderr, tc.stderr) || strings.Count(stderr, "\n") != 1) {
				t.Fatalf("stderr %q, want one line with %q", stderr, tc.stderr)
			}
		})
	}
}

// TestS3ClientTrustsSSLCertFile proves that a CA bundle in SSL_CERT_FILE is all a custom TLS
// endpoint needs: Go's crypto/x509 reads it on Linux (system roots load once per process,
// hence a fresh process per case).
func TestS3ClientTrustsSSLCertFile(t *testing.T) {
	server := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Write([]byte(`{}`))
	}))
	server.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake is the point of case 2
	server.StartTLS()
	defer server.Close()
	bundle := filepath.Join(t.TempDir(), "ca.pem")
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: server.Certificate().Raw})
	if err := os.WriteFile(bundle, pemBytes, 0o600); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(t.TempDir(), "empty.pem")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	base := []string{"AWS_REGION=eu-west-1", "AWS_ACCESS_KEY_ID=AKID", "AWS_SECRET_ACCESS_KEY=SECRET",
		"AWS_ENDPOINT_URL_S3=" + server.URL, "SSL_CERT_DIR=" + t.TempDir()}
	tests := []struct {
		name, certFile string
		code           int
	}{
		{"trusted through SSL_CERT_FILE", bundle, 0},
		{"not trusted without it", empty, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := helper(t, "s3get", append(base, "SSL_CERT_FILE="+tc.certFile)...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d (stderr %q)", code, tc.code, stderr)
			}
			if tc.code != 0 && !strings.Contains(stderr, "certificate") {
				t.Fatalf("failed for another reason: %q", stderr)
			}
		})
	}
}
