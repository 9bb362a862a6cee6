package notify

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/aws/aws-lambda-go/events"

	"github.com/orgcredit/orgcredit/internal/domain"
)

// Item types the notifier watches (attribute "type" of every item; see
// internal/dynamo's item layout).
const (
	itemPool     = "pool"
	itemSpend    = "spend"
	itemTransfer = "transfer"
)

// errMalformed marks a stream record that can never be processed (an image
// missing an attribute, or of the wrong type). Retrying it cannot help, so
// it is logged and skipped instead of blocking the shard.
var errMalformed = errors.New("malformed stream record")

type image = map[string]events.DynamoDBAttributeValue

// RecordAlerts decodes one stream record and finds the alerts it owes.
// Records of items the notifier does not watch owe nothing. Transfer
// records are not alerts; see ClosedWithoutAnswer.
func RecordAlerts(r events.DynamoDBEventRecord) ([]Alert, error) {
	typ := itemType(r.Change.NewImage)
	if typ == "" {
		typ = itemType(r.Change.OldImage)
	}
	switch typ {
	case itemPool:
		old, err := poolImage(r.Change.OldImage)
		if err != nil {
			return nil, err
		}
		new, err := poolImage(r.Change.NewImage)
		if err != nil {
			return nil, err
		}
		return PoolCrossings(old, new), nil
	case itemSpend:
		old, err := spendImage(r.Change.OldImage)
		if err != nil {
			return nil, err
		}
		new, err := spendImage(r.Change.NewImage)
		if err != nil {
			return nil, err
		}
		if a, ok := SpendCrossing(old, new); ok {
			return []Alert{a}, nil
		}
	}
	return nil, nil
}

func itemType(img image) string {
	v, ok := img["type"]
	if !ok || v.DataType() != events.DataTypeString {
		return ""
	}
	return v.String()
}

// poolImage decodes a pool image; nil for an absent image (INSERT's old,
// REMOVE's new).
func poolImage(img image) (*PoolImage, error) {
	if len(img) == 0 {
		return nil, nil
	}
	var p PoolImage
	var err error
	if p.OrgID, err = strAttr(img, "org_id"); err != nil {
		return nil, err
	}
	if p.Balance, err = microsAttr(img, "balance_micros"); err != nil {
		return nil, err
	}
	if p.Threshold, err = microsAttr(img, "threshold_micros"); err != nil {
		return nil, err
	}
	// granted_micros only makes once-keys unique across grants; an image
	// without it still alerts.
	if _, ok := img["granted_micros"]; ok {
		if p.Granted, err = microsAttr(img, "granted_micros"); err != nil {
			return nil, err
		}
	}
	return &p, nil
}

func spendImage(img image) (*SpendImage, error) {
	if len(img) == 0 {
		return nil, nil
	}
	var s SpendImage
	var err error
	if s.OrgID, err = strAttr(img, "org_id"); err != nil {
		return nil, err
	}
	if s.GroupID, err = strAttr(img, "group_id"); err != nil {
		return nil, err
	}
	if s.Period, err = strAttr(img, "period"); err != nil {
		return nil, err
	}
	// A spend item can exist without spend: a refusal for the cap marks
	// a period in which nothing was debited yet.
	if _, ok := img["spent_micros"]; ok {
		if s.Spent, err = microsAttr(img, "spent_micros"); err != nil {
			return nil, err
		}
	}
	if s.Cap, err = microsAttr(img, "cap_micros"); err != nil {
		return nil, err
	}
	if v, ok := img["cap_reached_at"]; ok && v.DataType() == events.DataTypeString && v.String() != "" {
		s.CapReached = true
	}
	return &s, nil
}

// ClosedWithoutAnswer reports the transfer a stream record shows closed by
// something other than an answer in Slack: expired (the sweeper, or a new
// request replacing it) or invalidated (a member left or was removed, also
// through the admin API, which has no Slack). Its Slack messages must
// still lose their buttons and the parties be told.
func ClosedWithoutAnswer(r events.DynamoDBEventRecord) (orgID, transferID string, ok bool) {
	if itemType(r.Change.NewImage) != itemTransfer || len(r.Change.OldImage) == 0 {
		return "", "", false
	}
	oldStatus, _ := strAttr(r.Change.OldImage, "status")
	newStatus, _ := strAttr(r.Change.NewImage, "status")
	if oldStatus != string(domain.TransferPending) ||
		(newStatus != string(domain.TransferExpired) && newStatus != string(domain.TransferInvalidated)) {
		return "", "", false
	}
	orgID, err1 := strAttr(r.Change.NewImage, "org_id")
	transferID, err2 := strAttr(r.Change.NewImage, "id")
	if err1 != nil || err2 != nil {
		return "", "", false
	}
	return orgID, transferID, true
}

// The accessors of events.DynamoDBAttributeValue panic on a type mismatch,
// so every attribute's type is checked first.
func strAttr(img image, name string) (string, error) {
	v, ok := img[name]
	if !ok || v.DataType() != events.DataTypeString || v.String() == "" {
		return "", fmt.Errorf("%w: attribute %q is missing or not a non-empty string", errMalformed, name)
	}
	return v.String(), nil
}

func microsAttr(img image, name string) (domain.Micros, error) {
	v, ok := img[name]
	if !ok || v.DataType() != events.DataTypeNumber {
		return 0, fmt.Errorf("%w: attribute %q is missing or not a number", errMalformed, name)
	}
	n, err := strconv.ParseInt(v.Number(), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%w: attribute %q = %q is not an integer number of micro-credits", errMalformed, name, v.Number())
	}
	return domain.Micros(n), nil
}

// Images for the poller, which synthesizes stream records locally. They
// carry the same attributes as the store's items.

func (p PoolImage) image() image {
	return image{
		"type":             events.NewStringAttribute(itemPool),
		"org_id":           events.NewStringAttribute(p.OrgID),
		"balance_micros":   number(p.Balance),
		"granted_micros":   number(p.Granted),
		"threshold_micros": number(p.Threshold),
	}
}

func (s SpendImage) image() image {
	img := image{
		"type":         events.NewStringAttribute(itemSpend),
		"org_id":       events.NewStringAttribute(s.OrgID),
		"group_id":     events.NewStringAttribute(s.GroupID),
		"period":       events.NewStringAttribute(s.Period),
		"spent_micros": number(s.Spent),
		"cap_micros":   number(s.Cap),
	}
	if s.CapReached {
		img["cap_reached_at"] = events.NewStringAttribute("reached")
	}
	return img
}

// transferImage is the part of a transfer item the notifier reads.
type transferImage struct {
	OrgID, ID string
	Status    domain.TransferStatus
}

func (t transferImage) image() image {
	return image{
		"type":   events.NewStringAttribute(itemTransfer),
		"org_id": events.NewStringAttribute(t.OrgID),
		"id":     events.NewStringAttribute(t.ID),
		"status": events.NewStringAttribute(string(t.Status)),
	}
}

func number(m domain.Micros) events.DynamoDBAttributeValue {
	return events.NewNumberAttribute(strconv.FormatInt(int64(m), 10))
}
