package dynamo

import (
	"fmt"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/orgcredit/orgcredit/internal/domain"
)

// DecodeRecord reads one record of the table's stream (old and new images)
// into the domain values a consumer watches: a domain.PoolChange,
// domain.SpendChange or domain.TransferChange, or nil for an item of any
// other kind. An image that cannot be read (a missing attribute, a number
// that does not fit) is an error for that record alone: errors.Is(err,
// ErrUnreadableRecord).
func (s *Store) DecodeRecord(r events.DynamoDBEventRecord) (any, error) { return DecodeRecord(r) }

// ErrUnreadableRecord marks a stream record that can never be decoded;
// retrying it cannot help.
var ErrUnreadableRecord = errUnreadable

// DecodeRecord is Store.DecodeRecord, for consumers without a store.
func DecodeRecord(r events.DynamoDBEventRecord) (any, error) {
	old, err := fromImage(r.Change.OldImage)
	if err != nil {
		return nil, unreadable("old image", err)
	}
	new, err := fromImage(r.Change.NewImage)
	if err != nil {
		return nil, unreadable("new image", err)
	}
	typ := itemType(new)
	if typ == "" {
		typ = itemType(old)
	}
	switch typ {
	case typePool:
		o, n, err := decodePair[poolItem](old, new, "org_id", "balance_micros", "threshold_micros")
		if err != nil {
			return nil, err
		}
		return domain.PoolChange{Old: o, New: n}, nil
	case typeSpend:
		o, n, err := decodePair[spendItem](old, new, "org_id", "group_id", "period", "cap_micros")
		if err != nil {
			return nil, err
		}
		return domain.SpendChange{Old: o, New: n}, nil
	case typeTransfer:
		o, n, err := decodePair[transferItem](old, new, "org_id", "id", "status")
		if err != nil {
			return nil, err
		}
		return domain.TransferChange{Old: o, New: n}, nil
	}
	return nil, nil
}

// decodePair decodes an old and a new image of one kind of item; an absent
// image is nil, and an image without one of the required attributes (which
// the store always writes) is unreadable.
func decodePair[T stored[D], D any](old, new map[string]types.AttributeValue, required ...string) (*D, *D, error) {
	one := func(img map[string]types.AttributeValue) (*D, error) {
		if len(img) == 0 {
			return nil, nil
		}
		for _, a := range required {
			if _, ok := img[a]; !ok {
				return nil, unreadable("image", fmt.Errorf("attribute %q is missing", a))
			}
		}
		it, err := unmarshal[T](img)
		if err != nil {
			return nil, unreadable("image", err)
		}
		d := it.domain()
		return &d, nil
	}
	o, err := one(old)
	if err != nil {
		return nil, nil, err
	}
	n, err := one(new)
	if err != nil {
		return nil, nil, err
	}
	return o, n, nil
}

// fromImage converts a stream image, as Lambda delivers it, into the SDK's
// attribute values.
func fromImage(img map[string]events.DynamoDBAttributeValue) (map[string]types.AttributeValue, error) {
	if len(img) == 0 {
		return nil, nil
	}
	out := make(map[string]types.AttributeValue, len(img))
	for k, v := range img {
		av, err := fromEvent(v)
		if err != nil {
			return nil, fmt.Errorf("attribute %q: %w", k, err)
		}
		out[k] = av
	}
	return out, nil
}

// fromEvent converts one attribute value. The events type's accessors
// panic on a type mismatch, so each is called only for its own type.
func fromEvent(v events.DynamoDBAttributeValue) (types.AttributeValue, error) {
	switch v.DataType() {
	case events.DataTypeString:
		return &types.AttributeValueMemberS{Value: v.String()}, nil
	case events.DataTypeNumber:
		return &types.AttributeValueMemberN{Value: v.Number()}, nil
	case events.DataTypeBoolean:
		return &types.AttributeValueMemberBOOL{Value: v.Boolean()}, nil
	case events.DataTypeNull:
		return &types.AttributeValueMemberNULL{Value: true}, nil
	case events.DataTypeBinary:
		return &types.AttributeValueMemberB{Value: v.Binary()}, nil
	case events.DataTypeStringSet:
		return &types.AttributeValueMemberSS{Value: v.StringSet()}, nil
	case events.DataTypeNumberSet:
		return &types.AttributeValueMemberNS{Value: v.NumberSet()}, nil
	case events.DataTypeBinarySet:
		return &types.AttributeValueMemberBS{Value: v.BinarySet()}, nil
	case events.DataTypeList:
		var l []types.AttributeValue
		for _, e := range v.List() {
			av, err := fromEvent(e)
			if err != nil {
				return nil, err
			}
			l = append(l, av)
		}
		return &types.AttributeValueMemberL{Value: l}, nil
	case events.DataTypeMap:
		m, err := fromImage(v.Map())
		if err != nil {
			return nil, err
		}
		return &types.AttributeValueMemberM{Value: m}, nil
	}
	return nil, fmt.Errorf("unknown attribute type %v", v.DataType())
}
