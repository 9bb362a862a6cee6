package dynamo

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// getItem reads one item with a consistent read into T; found is false when
// the item does not exist.
func getItem[T any](ctx context.Context, s *Store, pk, sk string) (v T, found bool, err error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: s.table, Key: itemKey(pk, sk), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return v, false, unavailable("read", err)
	}
	if out.Item == nil {
		return v, false, nil
	}
	v, err = unmarshal[T](out.Item)
	return v, err == nil, err
}

// stored is an item struct that converts to its domain value.
type stored[D any] interface{ domain() D }

// getDomain reads one item as its domain value; a missing item is the
// not-found refusal for kind and id.
func getDomain[T stored[D], D any](ctx context.Context, s *Store, pk, sk, kind, id string) (D, error) {
	it, ok, err := getItem[T](ctx, s, pk, sk)
	if err != nil {
		var zero D
		return zero, err
	}
	if !ok {
		var zero D
		return zero, notFound(kind, id)
	}
	return it.domain(), nil
}

// listDomain reads an organization's items under a sort-key prefix as
// domain values.
func listDomain[T stored[D], D any](ctx context.Context, s *Store, pk, prefix string) ([]D, error) {
	items, err := queryPrefix[T](ctx, s, pk, prefix)
	if err != nil {
		return nil, err
	}
	out := make([]D, len(items))
	for i, it := range items {
		out[i] = it.domain()
	}
	return out, nil
}

// query reads every item of a query (up to limit when limit > 0),
// following pages.
func (s *Store) query(ctx context.Context, in *dynamodb.QueryInput, limit int) ([]map[string]types.AttributeValue, error) {
	in.TableName = s.table
	var items []map[string]types.AttributeValue
	for {
		out, err := s.db.Query(ctx, in)
		if err != nil {
			return nil, unavailable("query", err)
		}
		items = append(items, out.Items...)
		if len(out.LastEvaluatedKey) == 0 || (limit > 0 && len(items) >= limit) {
			break
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
	if limit > 0 && len(items) > limit {
		items = items[:limit]
	}
	return items, nil
}

// queryInput builds a query of the table (index "") or of an index.
func queryInput(index string, kc expression.KeyConditionBuilder, consistent bool) *dynamodb.QueryInput {
	e := build(expression.NewBuilder().WithKeyCondition(kc))
	in := &dynamodb.QueryInput{
		KeyConditionExpression:    e.KeyCondition(),
		ExpressionAttributeNames:  e.Names(),
		ExpressionAttributeValues: e.Values(),
	}
	if index != "" {
		in.IndexName = aws.String(index)
	} else {
		in.ConsistentRead = aws.Bool(consistent)
	}
	return in
}

// queryPrefix reads an organization's items whose sort key starts with
// prefix.
func queryPrefix[T any](ctx context.Context, s *Store, pk, prefix string) ([]T, error) {
	kc := expression.Key(PartitionKey).Equal(expression.Value(pk)).And(expression.Key(SortKey).BeginsWith(prefix))
	items, err := s.query(ctx, queryInput("", kc, true), 0)
	if err != nil {
		return nil, err
	}
	return unmarshalAll[T](items)
}

func unmarshalAll[T any](items []map[string]types.AttributeValue) ([]T, error) {
	out := make([]T, 0, len(items))
	for _, it := range items {
		v, err := unmarshal[T](it)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// maxBatchGetKeys is DynamoDB's limit of keys in one BatchGetItem.
const maxBatchGetKeys = 100

// batchGet reads items by key with consistent reads, in one BatchGetItem
// per 100 keys (repeated only for keys DynamoDB left unprocessed). The
// keys must be distinct.
func (s *Store) batchGet(ctx context.Context, keys []key) ([]map[string]types.AttributeValue, error) {
	if len(keys) == 0 {
		return nil, nil // DynamoDB refuses a request for no keys
	}
	if len(keys) > maxBatchGetKeys {
		first, err := s.batchGet(ctx, keys[:maxBatchGetKeys])
		if err != nil {
			return nil, err
		}
		rest, err := s.batchGet(ctx, keys[maxBatchGetKeys:])
		return append(first, rest...), err
	}
	req := map[string]types.KeysAndAttributes{*s.table: {Keys: keys, ConsistentRead: aws.Bool(true)}}
	var out []map[string]types.AttributeValue
	var last error
	for attempt := 0; len(req) > 0; attempt++ {
		if attempt >= s.maxAttempts {
			return nil, exhausted("read", attempt, errors.Join(last, errors.New("unprocessed keys remained")))
		}
		if attempt > 0 {
			if err := backoff(ctx, attempt); err != nil {
				return nil, err
			}
		}
		res, err := s.db.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: req})
		if err != nil {
			if retryable(err) {
				last = err
				continue
			}
			return nil, unavailable("read", err)
		}
		out = append(out, res.Responses[*s.table]...)
		req = res.UnprocessedKeys
	}
	return out, nil
}

// itemType reads an item's "type" attribute.
func itemType(raw map[string]types.AttributeValue) string {
	if t, ok := raw["type"].(*types.AttributeValueMemberS); ok {
		return t.Value
	}
	return ""
}

// unreadable wraps an item the store cannot decode (a number that does not
// fit, a value of the wrong type): an error for that item alone.
func unreadable(what string, err error) error {
	return fmt.Errorf("%w: %s cannot be read: %v", errUnreadable, what, err)
}

var errUnreadable = errors.New("unreadable item")
