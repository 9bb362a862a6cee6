package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/config"
)

// signingService is the SigV4 service name of API Gateway's invoke
// endpoints.
const signingService = "execute-api"

// maxAnswer bounds what is read of an answer.
const maxAnswer = 16 << 20

// executeAPIHost matches API Gateway's default host names, public and
// private (VPC endpoint), and captures the region:
// abc123.execute-api.eu-west-1.amazonaws.com.
var executeAPIHost = regexp.MustCompile(`^[a-z0-9-]+\.execute-api\.([a-z0-9-]+)\.(?:vpce\.)?amazonaws\.com(?:\.cn)?$`)

// regionFromHost is the region in an execute-api host name, or "".
func regionFromHost(host string) string {
	m := executeAPIHost.FindStringSubmatch(strings.ToLower(host))
	if m == nil {
		return ""
	}
	return m[1]
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// auth is how requests are authenticated, once decided.
type auth struct {
	mode   string // "token", "sigv4" or "none"
	token  string
	creds  aws.Credentials
	region string
}

// baseURL reads and checks the API's base URL.
func baseURL(g *globals, env Env) (*url.URL, error) {
	raw := g.url
	from := "--url"
	if raw == "" {
		raw, from = env.Getenv(envURL), envURL
	}
	if raw == "" {
		raw, from = defaultURL, "the default URL"
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return nil, usagef("", "%s %q is not a base URL such as https://abc123.execute-api.eu-west-1.amazonaws.com (the stack's ApiUrl output) or %s", from, raw, defaultURL)
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	u.RawPath = ""
	return u, nil
}

// decideAuth picks the authentication for base and loads what it needs:
// the admin token, or AWS credentials and the signing region.
func decideAuth(ctx context.Context, g *globals, env Env, base *url.URL, stderr io.Writer) (auth, error) {
	token := g.token
	if token == "" {
		token = env.Getenv(envToken)
	}
	host := base.Hostname()
	mode := g.auth
	if mode == "" || mode == "auto" {
		switch {
		case regionFromHost(host) != "":
			// API Gateway's IAM authorization takes no bearer token; a
			// local ADMIN_TOKEN left in the environment must not be sent.
			mode = "sigv4"
			if g.tokenFromFlag {
				fmt.Fprintf(stderr, "orgcredit-admin: note: %s is an API Gateway URL, which is IAM-authorized: signing with AWS credentials and not sending --admin-token (--auth token forces it).\n", host)
			}
		case token != "":
			mode = "token"
		case isLoopback(host):
			return auth{}, fmt.Errorf("no admin token for %s. The local server prints its ADMIN_TOKEN when it starts (go run ./functions/local): "+
				"set ADMIN_TOKEN=<token> or pass --admin-token. For the deployed API, set --url or %s to the stack's ApiUrl output.", base, envURL)
		default:
			mode = "sigv4"
		}
	}
	switch mode {
	case "token":
		if token == "" {
			return auth{}, fmt.Errorf("--auth token needs the admin token: set ADMIN_TOKEN or pass --admin-token")
		}
		return auth{mode: mode, token: token}, nil
	case "none":
		return auth{mode: mode}, nil
	}
	return loadAWS(ctx, g, host)
}

// loadAWS reads the operator's AWS credentials and the signing region
// the way the AWS CLI and SDKs do.
func loadAWS(ctx context.Context, g *globals, host string) (auth, error) {
	var opts []func(*config.LoadOptions) error
	if g.profile != "" {
		opts = append(opts, config.WithSharedConfigProfile(g.profile))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return auth{}, fmt.Errorf("cannot load the AWS configuration to sign the request for %s.\n%s\n(AWS SDK: %v)", host, credentialsHelp, err)
	}
	// The host's region first: a signature scoped to any other region is
	// refused by that API, whatever the profile's default region.
	region := g.region
	if region == "" {
		region = regionFromHost(host)
	}
	if region == "" {
		region = cfg.Region
	}
	if region == "" {
		return auth{}, fmt.Errorf("cannot tell which AWS region to sign for: %s is not an execute-api host name (abc123.execute-api.REGION.amazonaws.com) "+
			"and no region is configured: pass --region or set AWS_REGION.", host)
	}
	if cfg.Credentials == nil {
		return auth{}, fmt.Errorf("no AWS credentials to sign the request for %s.\n%s", host, credentialsHelp)
	}
	creds, err := cfg.Credentials.Retrieve(ctx)
	if err != nil {
		return auth{}, fmt.Errorf("no usable AWS credentials to sign the request for %s.\n%s\n(AWS SDK: %v)", host, credentialsHelp, err)
	}
	return auth{mode: "sigv4", creds: creds, region: region}, nil
}

const credentialsHelp = `The deployed admin API takes requests signed with the AWS credentials of a principal
allowed execute-api:Invoke on its /admin/* routes (infra/README.md). Sign in as for the AWS CLI:
set AWS_PROFILE or pass --profile (for SSO profiles run 'aws sso login --profile NAME' first),
or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY. For the local server, give its admin
token instead: ADMIN_TOKEN=<token> or --admin-token.`

// sign adds the request's authentication.
func (a auth) sign(ctx context.Context, req *http.Request, body []byte) error {
	switch a.mode {
	case "token":
		req.Header.Set("Authorization", "Bearer "+a.token)
	case "sigv4":
		sum := sha256.Sum256(body)
		return v4.NewSigner().SignHTTP(ctx, a.creds, req, hex.EncodeToString(sum[:]), signingService, a.region, time.Now())
	}
	return nil
}

// problem is an RFC 9457 problem detail as the API writes it.
type problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail"`
}

// send makes one request and reports its answer: JSON on stdout for a
// success (then done, if any, sees it), the problem on stderr otherwise.
func send(ctx context.Context, g *globals, env Env, r request, stdout, stderr io.Writer, done func(status int, body []byte)) (int, error) {
	base, err := baseURL(g, env)
	if err != nil {
		return 0, err
	}
	timeout := g.timeout
	if timeout == 0 {
		timeout = defaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	a, err := decideAuth(ctx, g, env, base, stderr)
	if err != nil {
		return 0, err
	}
	target := base.String() + r.path
	var body io.Reader
	if r.body != nil {
		body = bytes.NewReader(r.body)
	}
	req, err := http.NewRequestWithContext(ctx, r.method, target, body)
	if err != nil {
		return 0, usagef("", "cannot make a request for %s %s: %v", r.method, target, err)
	}
	req.Header.Set("Accept", "application/json, application/problem+json")
	req.Header.Set("User-Agent", "orgcredit-admin")
	if r.body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if err := a.sign(ctx, req, r.body); err != nil {
		return 0, fmt.Errorf("cannot sign the request: %v", err)
	}
	if g.verbose {
		fmt.Fprintf(stderr, "> %s %s (auth: %s", req.Method, req.URL, a.mode)
		if a.mode == "sigv4" {
			fmt.Fprintf(stderr, ", region %s, key %s", a.region, a.creds.AccessKeyID)
		}
		fmt.Fprintln(stderr, ")")
	}
	client := env.HTTPClient
	if client == nil {
		client = http.DefaultClient
	}
	noRedirects := *client
	noRedirects.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := noRedirects.Do(req)
	if err != nil {
		return 0, networkError(err, base, timeout)
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return 0, networkError(err, base, timeout)
	}
	if g.verbose {
		fmt.Fprintf(stderr, "< %s\n", resp.Status)
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		if len(bytes.TrimSpace(answer)) > 0 {
			writeJSON(stdout, answer)
		} else if done == nil {
			fmt.Fprintf(stderr, "%s (no body)\n", resp.Status)
		}
		if done != nil {
			done(resp.StatusCode, answer)
		}
		return exitOK, nil
	}
	reportError(stderr, resp, answer, a, base)
	return exitAPI, nil
}

// writeJSON indents a JSON answer, keeping its members' order and numbers
// exactly; anything else is written as it came.
func writeJSON(w io.Writer, b []byte) {
	var out bytes.Buffer
	if err := json.Indent(&out, bytes.TrimSpace(b), "", "  "); err != nil {
		w.Write(b)
		return
	}
	out.WriteByte('\n')
	w.Write(out.Bytes())
}

// reportError writes an error answer on stderr: the problem's detail first,
// then its status, title, type and other members; or, for an answer that
// is not a problem (API Gateway's own refusals, a proxy), the status and
// body with a hint.
func reportError(stderr io.Writer, resp *http.Response, body []byte, a auth, base *url.URL) {
	mediaType, _, _ := strings.Cut(resp.Header.Get("Content-Type"), ";")
	var p problem
	var members map[string]json.RawMessage
	if strings.TrimSpace(mediaType) == "application/problem+json" && json.Unmarshal(body, &p) == nil && json.Unmarshal(body, &members) == nil {
		detail := p.Detail
		if detail == "" {
			detail = p.Title
		}
		fmt.Fprintf(stderr, "orgcredit-admin: %s\n", detail)
		fmt.Fprintf(stderr, "  status: %d %s\n", resp.StatusCode, p.Title)
		fmt.Fprintf(stderr, "  type: %s\n", p.Type)
		var keys []string
		for k := range members {
			switch k {
			case "type", "title", "status", "detail":
				continue
			}
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			v := string(members[k])
			var s string
			if json.Unmarshal(members[k], &s) == nil {
				v = s
			}
			fmt.Fprintf(stderr, "  %s: %s\n", k, v)
		}
		return
	}
	// API Gateway answers {"message": "..."} for what it refuses itself.
	var gw struct {
		Message string `json:"message"`
	}
	msg := strings.TrimSpace(string(body))
	if json.Unmarshal(body, &gw) == nil && gw.Message != "" {
		msg = gw.Message
	}
	if len(msg) > 500 {
		msg = msg[:500] + "…"
	}
	if msg == "" {
		msg = "(no body)"
	}
	fmt.Fprintf(stderr, "orgcredit-admin: %s %s: %s\n", resp.Status, resp.Request.URL, msg)
	switch {
	case resp.StatusCode >= 300 && resp.StatusCode < 400:
		fmt.Fprintf(stderr, "The server redirects to %q; redirects are not followed. Check --url.\n", resp.Header.Get("Location"))
	case resp.StatusCode == http.StatusForbidden && a.mode == "sigv4":
		fmt.Fprintf(stderr, "API Gateway refused the signed request (key %s, region %s). Check that these credentials belong to a principal\n"+
			"allowed execute-api:Invoke on this API's /admin/* routes (infra/README.md), that they have not expired, and\n"+
			"that %s is the API's region (--region).\n", a.creds.AccessKeyID, a.region, a.region)
	case resp.StatusCode == http.StatusForbidden || resp.StatusCode == http.StatusUnauthorized:
		fmt.Fprintln(stderr, "The request was not authorized. The deployed API needs SigV4 (AWS credentials); the local server its ADMIN_TOKEN.")
	case resp.StatusCode == http.StatusNotFound:
		fmt.Fprintf(stderr, "Nothing answers at this path. Check that --url (%s) is the stack's ApiUrl output or the local server.\n", base)
	}
}

// networkError explains a request that got no answer.
func networkError(err error, base *url.URL, timeout time.Duration) error {
	var what, maybe string
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		what = fmt.Sprintf("no answer from %s within %s (--timeout)", base, timeout)
		maybe = " The request may have been applied: repeating it is safe, as creates are idempotent and updates set values."
	case errors.Is(err, context.Canceled):
		return fmt.Errorf("interrupted: the request to %s may or may not have been applied (creates are idempotent: repeat it to know)", base)
	default:
		what = fmt.Sprintf("cannot reach %s: %v", base, unwrapURLError(err))
	}
	if isLoopback(base.Hostname()) {
		return fmt.Errorf("%s.\nIs the local server running? Start it with 'go run ./functions/local'. "+
			"For the deployed API, set --url or %s to the stack's ApiUrl output.%s", what, envURL, maybe)
	}
	return fmt.Errorf("%s.\nCheck the URL (the stack's ApiUrl output) and your network.%s", what, maybe)
}

func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
