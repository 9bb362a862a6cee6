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
// 405 problem with an Allow header.
type Router struct {
	routes []route
}

type route struct {
	method   string
	segments []string
	f        RouteFunc
}

// Handle adds a route.
func (rt *Router) Handle(method, pattern string, f RouteFunc) {
	rt.routes = append(rt.routes, route{method: method, segments: split(pattern), f: f})
}

// Serve is the Handler of the routes. It never returns an error: failures
// are answered as problems, because API Gateway would turn a returned
// error into a bare 500.
func (rt *Router) Serve(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	path := Path(req)
	segs := split(path)
	var allow []string
	for _, r := range rt.routes {
		p, ok := r.match(segs)
		if !ok {
			continue
		}
		if r.method != req.RequestContext.HTTP.Method {
			allow = append(allow, r.method)
			continue
		}
		resp, err := r.f(ctx, req, p)
		if err != nil {
			return ErrorResponse(ctx, req, err), nil
		}
		return resp, nil
	}
	if len(allow) > 0 {
		slices.Sort(allow)
		allow = slices.Compact(allow)
		return ProblemResponse(Problem{Type: TypeMethodNotAllowed, Title: "Method not allowed", Status: http.StatusMethodNotAllowed,
			Detail:   req.RequestContext.HTTP.Method + " is not supported on " + path + "; use " + strings.Join(allow, " or ") + ".",
			Instance: path, Header: map[string]string{"Allow": strings.Join(allow, ", ")}}), nil
	}
	return NotFound(req), nil
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
		if s != segs[i] {
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
