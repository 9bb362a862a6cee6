package main

import "time"

// Capacity: how much of the account one part of the service may take, so
// that a runaway agent cannot starve the rest. infra/README.md explains the
// sizing; TestCapacitySizing keeps the numbers consistent with each other.

// routeLimit is API Gateway's throttle of one route: a steady rate in
// requests per second and a burst, the size of the token bucket that lets
// a short spike above the rate through. API Gateway answers requests over
// it with 429 before they reach a function.
type routeLimit struct {
	Method, Path string
	Rate, Burst  float64

	// Duration is the usage function's expected time per request on the
	// route, the sizing's assumption: Rate × Duration is the concurrency
	// the route needs at its limit.
	Duration time.Duration
}

func (r routeLimit) key() string { return r.Method + " " + r.Path }

// agentRoutes are the agent API's routes, all served by the usage function,
// and their limits. The limits are for the route as a whole, all
// organizations together: HTTP APIs have no per-client throttling.
var agentRoutes = []routeLimit{
	// A debit is one TransactWriteItems and one BatchGetItem, about
	// 30-50 ms in the function.
	{Method: "POST", Path: "/v1/usage", Rate: 500, Burst: 1000, Duration: 50 * time.Millisecond},
	// Up to 100 events per request, written a few transactions at a time.
	{Method: "POST", Path: "/v1/usage/batch", Rate: 50, Burst: 100, Duration: 300 * time.Millisecond},
	// A cached token and one read.
	{Method: "GET", Path: "/v1/balance", Rate: 100, Burst: 200, Duration: 20 * time.Millisecond},
}

// defaultRouteLimit applies to every other route (admin, Slack): far above
// what people and operators send, it only stops a flood, for example of
// forged Slack requests that would otherwise keep the slack function's
// instances busy answering 401.
var defaultRouteLimit = routeLimit{Rate: 100, Burst: 200}

// concurrencyHeadroom is how many times the agent routes' need at their
// limits the usage function's default ceiling must hold, for slower
// DynamoDB answers (retries with backoff) and cold starts. Past the
// ceiling Lambda throttles, and API Gateway turns that into a 500, which
// is why the route limits must bite first.
const concurrencyHeadroom = 2

// The reserved concurrency of the slack and usage functions when the
// context does not say otherwise.
const (
	// Slack requests come from people: even every member of a 10,000-person
	// workspace opening App Home within one minute is under 170 requests a
	// second, at 30-60 ms each under 10 instances. 20 keeps Slack's 3 s
	// bound whatever the agents do.
	defaultSlackReservedConcurrency = 20

	// The agent API's ceiling: twice what the agent routes need at their
	// limits, and at most a tenth of the default account concurrency of
	// 1,000.
	defaultUsageReservedConcurrency = 100
)
