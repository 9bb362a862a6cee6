package dynamo

import (
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Conditions and updates are built with the SDK's expression builder, so
// that attribute names, values and their placeholders cannot mismatch, and
// conditions compose with And and Or instead of string surgery.

// Short names for the builder's operands.
var (
	name  = expression.Name
	value = expression.Value
)

// cond is an optional condition: nil means none.
type cond = *expression.ConditionBuilder

func when(c expression.ConditionBuilder) cond { return &c }

// absent is the condition of an item that must not exist yet.
func absent() cond { return when(name(PartitionKey).AttributeNotExists()) }

// present is the condition of an item that must exist.
func present() expression.ConditionBuilder { return name(PartitionKey).AttributeExists() }

// expressionFor is a builder of one condition.
func expressionFor(c cond) expression.Builder { return expression.NewBuilder().WithCondition(*c) }

// build turns builders into an expression. Only the store's own builders
// reach it, so an error is a programming mistake.
func build(b expression.Builder) expression.Expression {
	e, err := b.Build()
	if err != nil {
		panic(fmt.Sprintf("dynamo: build expression: %v", err))
	}
	return e
}

// txn is one TransactWriteItems being built. Items are tagged with what
// they stand for, so a cancellation is read by tag ("pool", "actor"), never
// by position.
type txn struct {
	items []types.TransactWriteItem
	tags  []string
}

func (t *txn) add(tag string, items ...types.TransactWriteItem) *txn {
	for _, it := range items {
		t.items = append(t.items, it)
		t.tags = append(t.tags, tag)
	}
	return t
}

// put writes a whole item, under c when set.
func put(item map[string]types.AttributeValue, c cond) types.TransactWriteItem {
	p := &types.Put{Item: item, ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld}
	if c != nil {
		e := build(expression.NewBuilder().WithCondition(*c))
		p.ConditionExpression, p.ExpressionAttributeNames, p.ExpressionAttributeValues = e.Condition(), e.Names(), e.Values()
	}
	return types.TransactWriteItem{Put: p}
}

// putNew writes an item that must not exist yet.
func putNew(item map[string]types.AttributeValue) types.TransactWriteItem { return put(item, absent()) }

// update changes attributes of an item, under c when set.
func update(k key, u expression.UpdateBuilder, c cond) types.TransactWriteItem {
	b := expression.NewBuilder().WithUpdate(u)
	if c != nil {
		b = b.WithCondition(*c)
	}
	e := build(b)
	return types.TransactWriteItem{Update: &types.Update{
		Key: k, UpdateExpression: e.Update(), ConditionExpression: e.Condition(),
		ExpressionAttributeNames: e.Names(), ExpressionAttributeValues: e.Values(),
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	}}
}

// check makes c a premise of the transaction without writing the item.
func check(k key, c expression.ConditionBuilder) types.TransactWriteItem {
	e := build(expression.NewBuilder().WithCondition(c))
	return types.TransactWriteItem{ConditionCheck: &types.ConditionCheck{
		Key: k, ConditionExpression: e.Condition(),
		ExpressionAttributeNames: e.Names(), ExpressionAttributeValues: e.Values(),
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	}}
}

// remove deletes an item, under c when set.
func remove(k key, c cond) types.TransactWriteItem {
	d := &types.Delete{Key: k, ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld}
	if c != nil {
		e := build(expression.NewBuilder().WithCondition(*c))
		d.ConditionExpression, d.ExpressionAttributeNames, d.ExpressionAttributeValues = e.Condition(), e.Names(), e.Values()
	}
	return types.TransactWriteItem{Delete: d}
}

// withTable sets the table name on every item; the builders leave it out.
func withTable(table *string, items []types.TransactWriteItem) []types.TransactWriteItem {
	for _, it := range items {
		switch {
		case it.Put != nil:
			it.Put.TableName = table
		case it.Update != nil:
			it.Update.TableName = table
		case it.ConditionCheck != nil:
			it.ConditionCheck.TableName = table
		case it.Delete != nil:
			it.Delete.TableName = table
		}
	}
	return items
}

// canceled is a transaction refused by a condition. DynamoDB returns one
// reason per item, in the items' order; canceled reads them by the tags the
// transaction gave its items.
type canceled struct {
	tags    []string
	reasons []types.CancellationReason
}

func (e *canceled) Error() string { return "transaction cancelled by a condition" }

// failed reports whether a condition of an item tagged tag failed.
func (e *canceled) failed(tag string) bool {
	for i, t := range e.tags {
		if t == tag && i < len(e.reasons) && aws.ToString(e.reasons[i].Code) == "ConditionalCheckFailed" {
			return true
		}
	}
	return false
}

// item returns the old image DynamoDB returned for the failed item tagged
// tag (ReturnValuesOnConditionCheckFailure ALL_OLD), or nil: not every back
// end returns it, and an item that did not exist has none.
func (e *canceled) item(tag string) map[string]types.AttributeValue {
	for i, t := range e.tags {
		if t == tag && i < len(e.reasons) && aws.ToString(e.reasons[i].Code) == "ConditionalCheckFailed" {
			return e.reasons[i].Item
		}
	}
	return nil
}

func conditionFailed(reasons []types.CancellationReason) bool {
	for _, r := range reasons {
		if aws.ToString(r.Code) == "ConditionalCheckFailed" {
			return true
		}
	}
	return false
}
