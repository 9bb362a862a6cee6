// Command usage is the agent API's Lambda function (POST /v1/usage,
// POST /v1/usage/batch, GET /v1/balance) behind API Gateway's HTTP API.
// Wiring only; the API is internal/agentapi.
//
// Environment: TABLE_NAME (required), DYNAMODB_ENDPOINT (optional, e.g. a
// DynamoDB Local for a local invoke). Built with -tags lambda.norpc for the
// provided.al2023 runtime.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/orgcredit/orgcredit/internal/agentapi"
	"github.com/orgcredit/orgcredit/internal/dynamo"
	"github.com/orgcredit/orgcredit/internal/metrics"
)

func main() {
	// JSON lines with the function's name and the request id, for this
	// code's logs and the libraries' (apigw, metrics) alike.
	slog.SetDefault(metrics.Logger(metrics.FunctionUsage, os.Stderr))
	store, err := dynamo.OpenFromEnv(context.Background(), os.Getenv)
	if err != nil {
		slog.Error("cannot open the store", "err", err)
		os.Exit(1)
	}
	// The API lives as long as the execution environment, so its token
	// cache spares DynamoDB a token read on most requests.
	api := agentapi.New(store)
	lambda.Start(metrics.Wrap(metrics.FunctionUsage, os.Stdout, api.Handle))
}
