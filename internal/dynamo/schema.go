package dynamo

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// The single table's key schema, defined once. infra/ builds the deployed
// table from these values and CreateTableInput builds the local one, so
// the two cannot drift.
const (
	// DefaultTableName is the table's name when none is configured.
	DefaultTableName = "orgcredit"

	// PartitionKey and SortKey are the table's primary key (both strings).
	PartitionKey = "PK"
	SortKey      = "SK"

	// GSI1 is the one global secondary index, overloaded: members by Slack
	// identity, organizations by Slack team, an organization's ledger by
	// time, pending transfers by expiry.
	GSI1Name         = "GSI1"
	GSI1PartitionKey = "GSI1PK"
	GSI1SortKey      = "GSI1SK"

	// TTLAttribute holds an epoch-seconds expiry on items that may be
	// forgotten (notification markers). Product decisions, such as a
	// transfer's expiry, never wait for it.
	TTLAttribute = "expires_at"
)

// Index describes a global secondary index (all attributes projected).
type Index struct {
	Name, PartitionKey, SortKey string
}

// Indexes are the table's global secondary indexes.
var Indexes = []Index{{Name: GSI1Name, PartitionKey: GSI1PartitionKey, SortKey: GSI1SortKey}}

// KeyAttributes are every key attribute of the table and its indexes; all
// are strings.
func KeyAttributes() []string {
	attrs := []string{PartitionKey, SortKey}
	for _, ix := range Indexes {
		attrs = append(attrs, ix.PartitionKey, ix.SortKey)
	}
	return attrs
}

// CreateTableInput is the table as the store expects it: on-demand, with a
// stream of old and new images (the notifier finds low-balance crossings
// from them).
func CreateTableInput(name string) *dynamodb.CreateTableInput {
	in := &dynamodb.CreateTableInput{
		TableName:   aws.String(name),
		BillingMode: types.BillingModePayPerRequest,
		KeySchema: []types.KeySchemaElement{
			{AttributeName: aws.String(PartitionKey), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String(SortKey), KeyType: types.KeyTypeRange},
		},
		StreamSpecification: &types.StreamSpecification{
			StreamEnabled:  aws.Bool(true),
			StreamViewType: types.StreamViewTypeNewAndOldImages,
		},
	}
	for _, a := range KeyAttributes() {
		in.AttributeDefinitions = append(in.AttributeDefinitions, types.AttributeDefinition{
			AttributeName: aws.String(a), AttributeType: types.ScalarAttributeTypeS,
		})
	}
	for _, ix := range Indexes {
		in.GlobalSecondaryIndexes = append(in.GlobalSecondaryIndexes, types.GlobalSecondaryIndex{
			IndexName: aws.String(ix.Name),
			KeySchema: []types.KeySchemaElement{
				{AttributeName: aws.String(ix.PartitionKey), KeyType: types.KeyTypeHash},
				{AttributeName: aws.String(ix.SortKey), KeyType: types.KeyTypeRange},
			},
			Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll},
		})
	}
	return in
}

// LocalTableInput is CreateTableInput without the stream, for tables
// outside AWS (DynamoDB Local, the embedded back end). Nothing reads their
// stream: the change recorder of internal/embedded stands in for it. And
// DynamoDB Local pays for a stream on every write, more the more it has
// written: tens of milliseconds per item after a few thousand
// transactions, against under one without.
func LocalTableInput(name string) *dynamodb.CreateTableInput {
	in := CreateTableInput(name)
	in.StreamSpecification = nil
	return in
}
