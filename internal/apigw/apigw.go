// Package apigw adapts between API Gateway HTTP API events (payload format
// 2.0) and the project's HTTP surfaces. Handlers take and return the same
// events in AWS and locally: HTTP turns a net/http request into the event
// AWS would send, so the local server runs exactly the Lambda code.
//
// It also holds what both JSON APIs share: a small router, strict JSON
// decoding and problem+json (RFC 9457) errors.
package apigw

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"
)

// Handler is a Lambda handler of API Gateway HTTP API events.
type Handler func(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error)

// maxEventBody is the largest request body HTTP forwards: Lambda refuses
// invocation payloads over 6 MB, so API Gateway never delivers more.
const maxEventBody = 6 << 20

// HTTP serves h over net/http. Each request becomes the event API Gateway
// would send for it (route "$default", headers lower-cased and repeated
// values comma-joined, cookies moved out of the headers, text bodies as
// they are and other bodies base64-encoded), and h's response is written
// back with base64 bodies decoded.
func HTTP(h Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req, err := Event(r)
		if err != nil {
			var overLimit *http.MaxBytesError
			if errors.As(err, &overLimit) {
				// Over what API Gateway passes to a function: the route's
				// own, smaller limit is not known here.
				p := tooLarge(maxEventBody+1, maxEventBody)
				p.Detail = fmt.Sprintf("The request body is over %d bytes (6 MiB), more than API Gateway passes to a function.", maxEventBody)
				p.Instance = r.URL.EscapedPath()
				writeResponse(w, ProblemResponse(*p))
				return
			}
			writeResponse(w, ProblemResponse(Problem{Type: TypeInvalidRequest, Status: http.StatusBadRequest,
				Detail: "The request body could not be read: " + err.Error(), Instance: r.URL.Path}))
			return
		}
		resp, err := h(r.Context(), req)
		if err != nil {
			// API Gateway answers a failed invocation with a bare 500; say
			// the same in the API's own error format.
			slog.ErrorContext(r.Context(), "handler failed", "path", req.RawPath, "request_id", req.RequestContext.RequestID, "err", err)
			resp = ProblemResponse(Problem{Type: TypeInternal, Status: http.StatusInternalServerError,
				Detail: "The request failed unexpectedly. Retry later; if it persists, report request " + req.RequestContext.RequestID + ".", Instance: req.RawPath})
		}
		writeResponse(w, resp)
	})
}

// Event builds the API Gateway HTTP API (payload 2.0) event for r.
func Event(r *http.Request) (events.APIGatewayV2HTTPRequest, error) {
	var body []byte
	if r.Body != nil {
		b, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, maxEventBody))
		if err != nil {
			return events.APIGatewayV2HTTPRequest{}, err
		}
		body = b
	}
	now := time.Now()
	id := requestID()
	req := events.APIGatewayV2HTTPRequest{
		Version:        "2.0",
		RouteKey:       "$default",
		RawPath:        r.URL.EscapedPath(),
		RawQueryString: r.URL.RawQuery,
		Headers:        map[string]string{},
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			RouteKey:   "$default",
			AccountID:  "local",
			Stage:      "$default",
			RequestID:  id,
			APIID:      "local",
			DomainName: r.Host,
			Time:       now.UTC().Format("02/Jan/2006:15:04:05 -0700"),
			TimeEpoch:  now.UnixMilli(),
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{
				Method:    r.Method,
				Path:      r.URL.EscapedPath(),
				Protocol:  r.Proto,
				SourceIP:  sourceIP(r.RemoteAddr),
				UserAgent: r.UserAgent(),
			},
		},
	}
	if i := strings.IndexByte(r.Host, '.'); i > 0 {
		req.RequestContext.DomainPrefix = r.Host[:i]
	}
	for name, values := range r.Header {
		name = strings.ToLower(name)
		if name == "cookie" {
			for _, v := range values {
				for c := range strings.SplitSeq(v, ";") {
					if c = strings.TrimSpace(c); c != "" {
						req.Cookies = append(req.Cookies, c)
					}
				}
			}
			continue
		}
		req.Headers[name] = strings.Join(values, ",")
	}
	if r.Host != "" {
		req.Headers["host"] = r.Host
	}
	if len(body) > 0 {
		req.Headers["content-length"] = fmt.Sprint(len(body))
	}
	if q := r.URL.Query(); len(q) > 0 {
		req.QueryStringParameters = make(map[string]string, len(q))
		for k, v := range q {
			req.QueryStringParameters[k] = strings.Join(v, ",")
		}
	}
	if len(body) > 0 {
		if utf8.Valid(body) {
			req.Body = string(body)
		} else {
			req.Body = base64.StdEncoding.EncodeToString(body)
			req.IsBase64Encoded = true
		}
	}
	return req, nil
}

func writeResponse(w http.ResponseWriter, resp events.APIGatewayV2HTTPResponse) {
	h := w.Header()
	for k, v := range resp.Headers {
		h.Set(k, v)
	}
	for k, vs := range resp.MultiValueHeaders {
		for _, v := range vs {
			h.Add(k, v)
		}
	}
	for _, c := range resp.Cookies {
		h.Add("Set-Cookie", c)
	}
	body := []byte(resp.Body)
	if resp.IsBase64Encoded {
		b, err := base64.StdEncoding.DecodeString(resp.Body)
		if err != nil {
			slog.Error("handler returned a body marked base64 that is not base64", "err", err)
			resp.StatusCode = http.StatusBadGateway
			b = nil
		}
		body = b
	}
	status := resp.StatusCode
	if status == 0 {
		status = http.StatusOK
	}
	w.WriteHeader(status)
	_, _ = io.Copy(w, bytes.NewReader(body))
}

// Body returns the request body, decoding it when API Gateway delivered it
// base64-encoded.
func Body(req events.APIGatewayV2HTTPRequest) ([]byte, error) {
	if !req.IsBase64Encoded {
		return []byte(req.Body), nil
	}
	b, err := base64.StdEncoding.DecodeString(req.Body)
	if err != nil {
		return nil, fmt.Errorf("request body marked base64-encoded is not valid base64: %w", err)
	}
	return b, nil
}

// Header returns the request header name, matched case-insensitively as
// HTTP does (API Gateway delivers lower-case names; hand-made events may
// not).
func Header(req events.APIGatewayV2HTTPRequest, name string) string {
	if v, ok := req.Headers[strings.ToLower(name)]; ok {
		return v
	}
	for k, v := range req.Headers {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}

// BearerToken returns the credentials of an "Authorization: Bearer ..."
// header, and false when there is no such header.
func BearerToken(req events.APIGatewayV2HTTPRequest) (string, bool) {
	auth := strings.TrimSpace(Header(req, "Authorization"))
	scheme, token, ok := strings.Cut(auth, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != ""
}

// Path is the request's path as the routes see it. API Gateway puts the
// stage name in front of rawPath for named stages; requestContext.http.path
// is the path without it.
func Path(req events.APIGatewayV2HTTPRequest) string {
	if p := req.RequestContext.HTTP.Path; p != "" {
		return p
	}
	return req.RawPath
}

func sourceIP(remote string) string {
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		return remote
	}
	return host
}

func requestID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
