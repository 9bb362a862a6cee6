package main

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/aws/aws-lambda-go/events"

	"github.com/orgcredit/orgcredit/internal/apigw"
	"github.com/orgcredit/orgcredit/internal/metrics"
)

// metricsPath shows the figures the deployed functions send to CloudWatch
// (see internal/metrics), added up since the server started.
const metricsPath = "/local/metrics"

// measured gives each request of h a metrics recorder, as the Lambda
// wrapper does in AWS, and adds what it recorded to totals.
func measured(totals *metrics.Totals, function string, h apigw.Handler) apigw.Handler {
	return func(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		r := metrics.New(function)
		resp, err := h(metrics.With(ctx, r), req)
		totals.Add(r)
		return resp, err
	}
}

func serveTotals(w http.ResponseWriter, totals *metrics.Totals) {
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(map[string]any{"namespace": metrics.Namespace, "totals": totals.Snapshot()})
}
