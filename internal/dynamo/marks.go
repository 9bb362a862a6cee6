package dynamo

import (
	"context"
	"errors"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/orgcredit/orgcredit/internal/domain"
)

// MarkOnce records k and reports whether this was the first time. The
// notifier and the Slack surface use it so that a redelivered stream record
// or a double click sends nothing twice. Marks are forgotten after ttl
// (DynamoDB TTL).
func (s *Store) MarkOnce(ctx context.Context, k domain.OnceKey, ttl time.Duration) (bool, error) {
	e := build(expressionFor(absent()))
	_, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: s.table,
		Item: map[string]types.AttributeValue{
			PartitionKey: str(markPK(k)), SortKey: str(skMark), "type": str(typeMark),
			TTLAttribute: num(s.now().Add(ttl).Unix()),
		},
		ConditionExpression:      e.Condition(),
		ExpressionAttributeNames: e.Names(),
	})
	if _, ok := errors.AsType[*types.ConditionalCheckFailedException](err); ok {
		return false, nil
	}
	if err != nil {
		return false, unavailable("write", err)
	}
	return true, nil
}

// Unmark forgets a mark, so a notification whose delivery failed can be
// tried again.
func (s *Store) Unmark(ctx context.Context, k domain.OnceKey) error {
	_, err := s.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: s.table, Key: itemKey(markPK(k), skMark)})
	if err != nil {
		return unavailable("write", err)
	}
	return nil
}
