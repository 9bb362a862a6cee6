package apigw

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/aws/aws-lambda-go/events"
)

// Params are the values of a route's {name} segments, unescaped.
type Params map[string]string

// RouteFunc handles one route. An error it returns is answered as a
// problem (see ErrorResponse).
type RouteFunc func(ctx context.Context, req events.APIGatewayV2HTTPRequest, p Params) (events.APIGatewayV2HTTPResponse, error)

// Router dispatches events by method and path, with patterns such as
// "/admin/orgs/{org}/members/{member}". API Gateway sends every path of the
// API to one function ("$default" route), so the function routes itself.
// An unknown path is a 404 problem and a known path with another method a
// 405 problem with an Allow header. HEAD is served by a GET route without
// the body, and OPTIONS answers 204 with the Allow header, as HTTP
// expects of every resource.
//
// A pattern lists the query parameters its route takes after a '?'
// ("/admin/orgs/{org}/audit?limit"); any other query parameter is a 400,
// as strict as an unknown field in the body: "?org=other" must not look
// as if it did something.
type Router struct {
	routes []route
}

type route struct {
	method   string
	segments []string
	query    []string
	f        RouteFunc
}

// Handle adds a route.
func (rt *Router) Handle(method, pattern string, f RouteFunc) {
	path, query, _ := strings.Cut(pattern, "?")
	var params []string
	if query != "" {
		params = strings.Split(query, "&")
	}
	rt.routes = append(rt.routes, route{method: method, segments: split(path), query: params, f: f})
}

// Routes lists the routes in the order they were added, each as
// "METHOD pattern" with the pattern as given to Handle (query parameters
// included: "GET /admin/orgs/{org}/audit?limit"). Clients and their tests
// use it to check that they cover every route.
func (rt *Router) Routes() []string {
	out := make([]string, 0, len(rt.routes))
	for _, r := range rt.routes {
		p := "/" + strings.Join(r.segments, "/")
		if len(r.query) > 0 {
			p += "?" + strings.Join(r.query, "&")
		}
		out = append(out, r.method+" "+p)
	}
	return out
}

// Serve is the Handler of the routes. It never returns an error: failures
// are answered as problems, because API Gateway would turn a returned
// error into a bare 500.
func (rt *Router) Serve(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	resp := rt.serve(ctx, req)
	if req.RequestContext.HTTP.Method == http.MethodHead {
		// The answer to HEAD is the headers of the answer to GET, and
		// never a body, whatever the status.
		resp.Body, resp.IsBase64Encoded = "", false
	}
	return resp, nil
}

func (rt *Router) serve(ctx context.Context, req events.APIGatewayV2HTTPRequest) events.APIGatewayV2HTTPResponse {
	path := Path(req)
	segs := split(path)
	method := req.RequestContext.HTTP.Method
	var allow []string
	for _, r := range rt.routes {
		p, ok := r.match(segs)
		if !ok {
			continue
		}
		allow = append(allow, r.method)
		if r.method != method && (method != http.MethodHead || r.method != http.MethodGet) {
			continue
		}
		if err := r.checkQuery(req); err != nil {
			return ErrorResponse(ctx, req, err)
		}
		resp, err := r.f(ctx, req, p)
		if err != nil {
			return ErrorResponse(ctx, req, err)
		}
		return resp
	}
	if len(allow) == 0 {
		return NotFound(req)
	}
	slices.Sort(allow)
	allow = slices.Compact(allow)
	use := strings.Join(allow, " or ")
	if slices.Contains(allow, http.MethodGet) {
		allow = append(allow, http.MethodHead)
	}
	allow = append(allow, http.MethodOptions)
	slices.Sort(allow)
	header := strings.Join(allow, ", ")
	if method == http.MethodOptions {
		resp := NoContent()
		resp.Headers["Allow"] = header
		return resp
	}
	return ProblemResponse(Problem{Type: TypeMethodNotAllowed, Title: "Method not allowed", Status: http.StatusMethodNotAllowed,
		Detail:   method + " is not supported on " + path + "; use " + use + ".",
		Instance: path, Header: map[string]string{"Allow": header}})
}

// checkQuery refuses query parameters the route does not take.
func (r route) checkQuery(req events.APIGatewayV2HTTPRequest) error {
	names := make([]string, 0, len(req.QueryStringParameters))
	for k := range req.QueryStringParameters {
		names = append(names, k)
	}
	if len(names) == 0 && req.RawQueryString != "" {
		// A hand-made event may carry only the raw query string.
		q, err := url.ParseQuery(req.RawQueryString)
		if err != nil {
			return BadRequest("", "The query string %q is malformed.", req.RawQueryString)
		}
		for k := range q {
			names = append(names, k)
		}
	}
	slices.Sort(names)
	for _, k := range names {
		if slices.Contains(r.query, k) {
			continue
		}
		if len(r.query) == 0 {
			return BadRequest(k, "This request takes no query parameters; remove %q from the URL. (The organization and agent always come from the credentials.)", k)
		}
		return BadRequest(k, "%q is not a query parameter of this request; it takes %s.", k, quoteAll("", r.query))
	}
	return nil
}

// NotFound is the 404 problem of a path no route serves.
func NotFound(req events.APIGatewayV2HTTPRequest) events.APIGatewayV2HTTPResponse {
	path := Path(req)
	return ProblemResponse(Problem{Type: TypeNotFound, Title: "Not found", Status: http.StatusNotFound,
		Detail: "There is no resource at " + path + ". Check the path against the API reference.", Instance: path})
}

func (r route) match(segs []string) (Params, bool) {
	if len(segs) != len(r.segments) {
		return nil, false
	}
	var p Params
	for i, s := range r.segments {
		if strings.HasPrefix(s, "{") && strings.HasSuffix(s, "}") {
			v, err := url.PathUnescape(segs[i])
			if err != nil || v == "" {
				return nil, false
			}
			if p == nil {
				p = Params{}
			}
			p[s[1:len(s)-1]] = v
			continue
		}
		// A literal segment matches in any percent-encoding of the same
		// characters ("%75sage" is "usage"), as RFC 3986 makes them equal.
		if v, err := url.PathUnescape(segs[i]); err != nil || v != s {
			return nil, false
		}
	}
	return p, true
}

// split cuts a path into segments; "/a/b" and "/a/b/" differ (the second
// has an empty last segment), so a trailing slash is not silently
// accepted.
func split(path string) []string {
	return strings.Split(strings.TrimPrefix(path, "/"), "/")
}
