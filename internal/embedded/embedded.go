// Package embedded runs DynamoDB where AWS is not: the embedded, in-process
// DynamoDB-compatible back end (github.com/truora/minidyn) for the local
// run and fast tests, and, in front of it or of any DynamoDB-compatible
// endpoint (DynamoDB Local), a recorder that turns every write into the
// stream records DynamoDB Streams would deliver, with old and new images.
//
// It is for the local server and tests only: no Lambda function imports
// it, so none links minidyn.
package embedded

import (
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	miniserver "github.com/truora/minidyn/server"

	"github.com/orgcredit/orgcredit/internal/dynamo"
)

// Server is a DynamoDB-compatible endpoint on a loopback listener.
type Server struct {
	srv  *httptest.Server
	feed *Feed
}

// Start serves the embedded back end (minidyn, in memory). Its data lives
// as long as the server.
func Start() *Server { return serve(miniserver.NewServer(), nil) }

// StartRecorded serves the embedded back end behind the change recorder:
// every write it applies is in Feed.
func StartRecorded() *Server {
	feed := NewFeed()
	return serve(Record(miniserver.NewServer(), feed), feed)
}

// Proxy serves a DynamoDB-compatible endpoint (DynamoDB Local) behind the
// change recorder: every write made through this server is in Feed. Writes
// made to the endpoint directly are not.
func Proxy(endpoint string) (*Server, error) {
	u, err := url.Parse(endpoint)
	if err != nil {
		return nil, err
	}
	feed := NewFeed()
	return serve(Record(httputil.NewSingleHostReverseProxy(u), feed), feed), nil
}

func serve(h http.Handler, feed *Feed) *Server {
	return &Server{srv: httptest.NewServer(h), feed: feed}
}

// URL is the endpoint's base URL.
func (s *Server) URL() string { return s.srv.URL }

// Client is a real SDK client for the endpoint, so the store runs the same
// code as against AWS.
func (s *Server) Client() *dynamodb.Client {
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}, Timeout: 30 * time.Second}
	return dynamo.NewEndpointClient(s.srv.URL, hc)
}

// Feed is the recorded change stream; nil for Start.
func (s *Server) Feed() *Feed { return s.feed }

// Close stops the server; the embedded back end's data is gone.
func (s *Server) Close() { s.srv.Close() }
