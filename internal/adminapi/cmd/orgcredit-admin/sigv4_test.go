package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/orgcredit/orgcredit/internal/apigw"
)

// The operator's credentials as the test's IAM knows them.
const (
	testKeyID  = "AKIDORGCREDITTEST"
	testSecret = "orgcredit-test-secret-key"
)

// iamGateway plays API Gateway with IAM authorization in front of the
// admin API: it verifies each request's SigV4 signature for service
// execute-api in its region, answering 403 {"message": ...} as API Gateway
// does when the signature does not hold, and passes the rest on.
type iamGateway struct {
	region string
	next   http.Handler

	mu       sync.Mutex
	verified []string // "METHOD path" of the requests that held
	refused  []string // why the others did not
	headers  []http.Header
}

func (g *iamGateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	err = verifySigV4(r, body, g.region)
	g.mu.Lock()
	g.headers = append(g.headers, r.Header.Clone())
	if err != nil {
		g.refused = append(g.refused, err.Error())
	} else {
		g.verified = append(g.verified, r.Method+" "+r.URL.RequestURI())
	}
	g.mu.Unlock()
	if err != nil {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusForbidden)
		fmt.Fprintf(w, `{"message":%q}`, err.Error())
		return
	}
	g.next.ServeHTTP(w, r)
}

// verifySigV4 checks r's Authorization header the way the receiving side
// does: the credential scope names the known key, the request's date,
// the gateway's region and execute-api; the signed headers include the
// ones that must be; and signing the received request again, with only
// those headers and the received body, gives the same signature.
func verifySigV4(r *http.Request, body []byte, region string) error {
	const alg = "AWS4-HMAC-SHA256 "
	authz := r.Header.Get("Authorization")
	if !strings.HasPrefix(authz, alg) {
		return fmt.Errorf("Authorization %q is not SigV4", authz)
	}
	parts := map[string]string{}
	for kv := range strings.SplitSeq(strings.TrimPrefix(authz, alg), ", ") {
		k, v, _ := strings.Cut(kv, "=")
		parts[k] = v
	}
	amzDate := r.Header.Get("X-Amz-Date")
	at, err := time.Parse("20060102T150405Z", amzDate)
	if err != nil {
		return fmt.Errorf("X-Amz-Date %q: %v", amzDate, err)
	}
	if d := time.Since(at); d > 5*time.Minute || d < -5*time.Minute {
		return fmt.Errorf("signed at %s, %s from now", at, d)
	}
	if want := testKeyID + "/" + amzDate[:8] + "/" + region + "/execute-api/aws4_request"; parts["Credential"] != want {
		return fmt.Errorf("Credential=%s, want %s", parts["Credential"], want)
	}
	signed := strings.Split(parts["SignedHeaders"], ";")
	must := []string{"host", "x-amz-date"}
	if len(body) > 0 {
		must = append(must, "content-type", "content-length")
	}
	if r.Header.Get("X-Amz-Security-Token") != "" {
		must = append(must, "x-amz-security-token")
	}
	for _, h := range must {
		if !slices.Contains(signed, h) {
			return fmt.Errorf("SignedHeaders=%s lacks %s", parts["SignedHeaders"], h)
		}
	}
	again, err := http.NewRequest(r.Method, "http://"+r.Host+r.URL.RequestURI(), nil)
	if err != nil {
		return err
	}
	for _, h := range signed {
		switch h {
		case "host":
		case "content-length":
			again.ContentLength = r.ContentLength
		default:
			again.Header[http.CanonicalHeaderKey(h)] = r.Header.Values(h)
		}
	}
	sum := sha256.Sum256(body)
	creds := aws.Credentials{AccessKeyID: testKeyID, SecretAccessKey: testSecret, SessionToken: r.Header.Get("X-Amz-Security-Token")}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, again, hex.EncodeToString(sum[:]), "execute-api", region, at); err != nil {
		return err
	}
	if got := again.Header.Get("Authorization"); got != authz {
		return errors.New("The request signature we calculated does not match the signature you provided.")
	}
	return nil
}

// awsEnv isolates the AWS SDK from the machine's configuration: no files,
// no instance metadata, and the given variables only.
func awsEnv(t *testing.T, vars map[string]string) {
	dir := t.TempDir()
	base := map[string]string{
		"AWS_CONFIG_FILE":             filepath.Join(dir, "config"),
		"AWS_SHARED_CREDENTIALS_FILE": filepath.Join(dir, "credentials"),
		"AWS_EC2_METADATA_DISABLED":   "true",
	}
	for _, k := range []string{"AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
		"AWS_SESSION_TOKEN", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI"} {
		base[k] = ""
	}
	for k, v := range vars {
		base[k] = v
	}
	for k, v := range base {
		t.Setenv(k, v)
	}
}

// dialTo makes a client that connects to addr whatever the URL's host, so
// that requests for an execute-api host name reach the test's gateway with
// that host name in their Host header and signature.
func dialTo(addr string) *http.Client {
	return &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, addr)
		},
	}}
}

func TestSigV4(t *testing.T) {
	api := newAPI(t) // as in AWS: no admin token, IAM authorizes
	staticCreds := map[string]string{"AWS_ACCESS_KEY_ID": testKeyID, "AWS_SECRET_ACCESS_KEY": testSecret}
	with := func(extra map[string]string) map[string]string {
		m := map[string]string{}
		for k, v := range staticCreds {
			m[k] = v
		}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	const apiHost = "abc123.execute-api.eu-west-1.amazonaws.com"
	tests := []struct {
		name     string
		aws      map[string]string // AWS_* environment
		url      string
		env      map[string]string // the CLI's own environment
		args     []string
		gwRegion string // the region the gateway verifies for
		code     int
		stderr   string
		signed   bool // the gateway got a request that held
	}{
		{name: "region from the host", aws: staticCreds, url: "http://" + apiHost, gwRegion: "eu-west-1", code: exitOK, signed: true},
		{name: "host's region over the profile's", aws: with(map[string]string{"AWS_REGION": "us-east-1"}), url: "http://" + apiHost,
			gwRegion: "eu-west-1", code: exitOK, signed: true},
		{name: "region from the AWS config", aws: with(map[string]string{"AWS_REGION": "ap-southeast-2"}), url: "http://admin.example.com",
			gwRegion: "ap-southeast-2", code: exitOK, signed: true},
		{name: "region from --region", aws: staticCreds, url: "http://admin.example.com", args: []string{"--region", "ca-central-1"},
			gwRegion: "ca-central-1", code: exitOK, signed: true},
		{name: "session token signed", aws: with(map[string]string{"AWS_SESSION_TOKEN": "FQoGZXIvYXdzEJr-session"}), url: "http://" + apiHost,
			gwRegion: "eu-west-1", code: exitOK, signed: true},
		{name: "local admin token not sent to API Gateway", aws: staticCreds, url: "http://" + apiHost, env: map[string]string{envToken: "local-token"},
			gwRegion: "eu-west-1", code: exitOK, signed: true},
		{name: "wrong region refused", aws: staticCreds, url: "http://" + apiHost, args: []string{"--region", "us-west-2"},
			gwRegion: "eu-west-1", code: exitAPI, stderr: "API Gateway refused the signed request (key " + testKeyID + ", region us-west-2)"},
		{name: "wrong secret refused", aws: with(map[string]string{"AWS_SECRET_ACCESS_KEY": "not-the-secret"}), url: "http://" + apiHost,
			gwRegion: "eu-west-1", code: exitAPI, stderr: "The request signature we calculated does not match"},
		{name: "no credentials", aws: map[string]string{"AWS_REGION": "eu-west-1"}, url: "http://" + apiHost,
			gwRegion: "eu-west-1", code: exitSend, stderr: "aws sso login --profile NAME"},
		{name: "unknown profile", aws: staticCreds, url: "http://" + apiHost, args: []string{"--profile", "nosuch"},
			gwRegion: "eu-west-1", code: exitSend, stderr: "cannot load the AWS configuration"},
		{name: "no region", aws: staticCreds, url: "http://admin.example.com", gwRegion: "eu-west-1", code: exitSend, stderr: "pass --region or set AWS_REGION"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			awsEnv(t, tt.aws)
			gw := &iamGateway{region: tt.gwRegion, next: apigw.HTTP(api.Handle)}
			srv := httptest.NewServer(gw)
			defer srv.Close()
			env := map[string]string{envURL: tt.url}
			for k, v := range tt.env {
				env[k] = v
			}
			org := strings.NewReplacer(" ", "-", "'", "").Replace(tt.name)
			args := append([]string{"--timeout", "10s", "orgs", "create", "--id", org, "--name", "Signed", "--owner-id", "o", "--owner-name", "O"}, tt.args...)
			r := cli(env, dialTo(srv.Listener.Addr().String()), args...)
			if r.code != tt.code || !strings.Contains(r.stderr, tt.stderr) {
				t.Fatalf("= %d, want %d with %q in stderr:\n%s", r.code, tt.code, tt.stderr, r.stderr)
			}
			gw.mu.Lock()
			verified, refused, headers := gw.verified, gw.refused, gw.headers
			gw.mu.Unlock()
			if got := len(verified) == 1; got != tt.signed {
				t.Fatalf("verified %q, refused %q; want a verified request: %v", verified, refused, tt.signed)
			}
			if tt.code == exitSend && len(headers) != 0 {
				t.Errorf("a request was sent without credentials: %v", headers)
			}
			if !tt.signed {
				return
			}
			if !strings.Contains(r.stdout, `"id": "`+org+`"`) {
				t.Errorf("stdout lacks the organization:\n%s", r.stdout)
			}
			h := headers[0]
			if tt.aws["AWS_SESSION_TOKEN"] != "" && h.Get("X-Amz-Security-Token") != tt.aws["AWS_SESSION_TOKEN"] {
				t.Errorf("X-Amz-Security-Token = %q", h.Get("X-Amz-Security-Token"))
			}
			if strings.Contains(h.Get("Authorization"), "Bearer") {
				t.Errorf("Authorization = %q", h.Get("Authorization"))
			}
			// A GET, without a body, signs too.
			if g := cli(env, dialTo(srv.Listener.Addr().String()), append([]string{"orgs", "get", "--id", org}, tt.args...)...); g.code != exitOK {
				t.Errorf("orgs get = %d: %s", g.code, g.stderr)
			}
		})
	}
}
