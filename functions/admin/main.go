// Command admin is the admin API's Lambda function (/admin/...). Wiring
// only; the API is internal/adminapi.
//
// In AWS the admin routes are IAM-authorized by API Gateway, so the
// function needs no token of its own. ADMIN_TOKEN, when set, additionally
// requires "Authorization: Bearer <token>" (as the local server does).
//
// Environment: TABLE_NAME (required), DYNAMODB_ENDPOINT (optional),
// ADMIN_TOKEN (optional). Built with -tags lambda.norpc for the
// provided.al2023 runtime.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/orgcredit/orgcredit/internal/adminapi"
	"github.com/orgcredit/orgcredit/internal/dynamo"
	"github.com/orgcredit/orgcredit/internal/metrics"
)

func main() {
	// JSON lines with the function's name and the request id, for this
	// code's logs and the libraries' (apigw, metrics) alike.
	slog.SetDefault(metrics.Logger(metrics.FunctionAdmin, os.Stderr))
	store, err := dynamo.OpenFromEnv(context.Background(), os.Getenv)
	if err != nil {
		slog.Error("cannot open the store", "err", err)
		os.Exit(1)
	}
	api := adminapi.New(store, adminapi.WithAdminToken(os.Getenv("ADMIN_TOKEN")))
	lambda.Start(metrics.Wrap(metrics.FunctionAdmin, os.Stdout, api.Handle))
}
