package dynamo

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// NewClient makes a DynamoDB client. With an empty endpoint it uses the
// default AWS configuration (Lambda's role). With an endpoint (DynamoDB
// Local, or any DynamoDB-compatible server) it talks to that endpoint with
// static dummy credentials, as DynamoDB Local accepts any.
func NewClient(ctx context.Context, endpoint string) (*dynamodb.Client, error) {
	if endpoint == "" {
		cfg, err := config.LoadDefaultConfig(ctx)
		if err != nil {
			return nil, fmt.Errorf("load AWS configuration: %w", err)
		}
		return dynamodb.NewFromConfig(cfg), nil
	}
	return NewEndpointClient(endpoint, http.DefaultClient), nil
}

// NewEndpointClient makes a client for a DynamoDB-compatible endpoint with
// static dummy credentials, over hc.
func NewEndpointClient(endpoint string, hc *http.Client) *dynamodb.Client {
	return dynamodb.New(dynamodb.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider("local", "local", ""),
		HTTPClient:   hc,
		// The store retries conflicts and throttling itself, with jitter,
		// so that it can tell them apart from rule refusals.
		RetryMaxAttempts: 1,
	})
}

// EnsureTable creates the table with the store's schema if it does not
// exist yet and waits until it is active. It is for the local server, on
// DynamoDB Local or the embedded back end: the table has no stream
// (LocalTableInput).
func EnsureTable(ctx context.Context, client *dynamodb.Client, table string) error {
	_, err := client.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)})
	if err == nil {
		return nil
	}
	var nf *types.ResourceNotFoundException
	if !errors.As(err, &nf) {
		return fmt.Errorf("describe table %s: %w", table, err)
	}
	if _, err := client.CreateTable(ctx, LocalTableInput(table)); err != nil {
		var inUse *types.ResourceInUseException
		if !errors.As(err, &inUse) {
			return fmt.Errorf("create table %s: %w", table, err)
		}
	}
	// Poll rather than use the SDK's waiter: the embedded back end reports
	// no table status, which counts as ready.
	deadline := time.Now().Add(time.Minute)
	for {
		out, err := client.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)})
		if err == nil && out.Table != nil && (out.Table.TableStatus == "" || out.Table.TableStatus == types.TableStatusActive) {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("table %s did not become active within a minute (last error: %v)", table, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// OpenFromEnv makes the store a Lambda function uses, from its
// environment: TABLE_NAME (required), DYNAMODB_ENDPOINT (optional: a
// DynamoDB Local or other compatible endpoint instead of AWS) and the
// settings OptionsFromEnv reads.
func OpenFromEnv(ctx context.Context, getenv func(string) string) (*Store, error) {
	table := getenv("TABLE_NAME")
	if table == "" {
		return nil, errors.New("TABLE_NAME is not set: set it to the DynamoDB table's name")
	}
	opts, err := OptionsFromEnv(getenv)
	if err != nil {
		return nil, err
	}
	client, err := NewClient(ctx, getenv("DYNAMODB_ENDPOINT"))
	if err != nil {
		return nil, fmt.Errorf("DynamoDB client: %w", err)
	}
	return New(client, table, opts...), nil
}
