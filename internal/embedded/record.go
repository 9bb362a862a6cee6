package embedded

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// Record wraps a DynamoDB-compatible endpoint so that every write it
// applies is appended to feed as the stream record DynamoDB Streams would
// deliver (NEW_AND_OLD_IMAGES): one per item the write changed, with the
// item as it was before and after. Writes are serialized through the
// recorder, each between a read of its items before and after, so every
// record holds exactly its own write's change: nothing between two writes
// is lost, as it would be by comparing snapshots. A write that changes
// nothing (a failed condition, an update to the same values) records
// nothing, as on DynamoDB.
func Record(upstream http.Handler, feed *Feed) http.Handler {
	return &recorder{up: upstream, feed: feed, keys: map[string][]string{}}
}

type recorder struct {
	up   http.Handler
	feed *Feed

	// mu serializes writes, so that the images read around one write are
	// that write's alone.
	mu   sync.Mutex
	keys map[string][]string // table → its key attribute names
}

// writes are the operations that change items.
var writes = map[string]bool{
	"PutItem": true, "UpdateItem": true, "DeleteItem": true,
	"TransactWriteItems": true, "BatchWriteItem": true,
}

// itemRef is one item a write may change.
type itemRef struct {
	table string
	key   map[string]json.RawMessage
}

func (ir itemRef) id() string {
	b, _ := json.Marshal(ir.key) // map keys are marshalled sorted
	return ir.table + "\x00" + string(b)
}

func operation(r *http.Request) string {
	t := r.Header.Get("X-Amz-Target")
	return t[strings.LastIndexByte(t, '.')+1:]
}

func (rc *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	op := operation(r)
	if !writes[op] {
		rc.up.ServeHTTP(w, r)
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, "read request: "+err.Error(), http.StatusBadRequest)
		return
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	// A request the recorder cannot read is forwarded as it is: the back
	// end answers it (most likely with an error), and nothing is recorded.
	refs, _ := rc.targets(op, body, r.Header)
	before := rc.images(refs, r.Header)

	fwd := r.Clone(r.Context())
	fwd.Body, fwd.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
	rec := httptest.NewRecorder()
	rc.up.ServeHTTP(rec, fwd)
	if rec.Code == http.StatusOK && len(refs) > 0 {
		after := rc.images(refs, r.Header)
		rc.emit(refs, before, after)
	}
	maps.Copy(w.Header(), rec.Header())
	w.WriteHeader(rec.Code)
	_, _ = w.Write(rec.Body.Bytes())
}

// targets lists the items a write names.
func (rc *recorder) targets(op string, body []byte, h http.Header) ([]itemRef, error) {
	var refs []itemRef
	whole := func(table string, item map[string]json.RawMessage) error {
		names, err := rc.keyNames(table, h)
		if err != nil {
			return err
		}
		k := map[string]json.RawMessage{}
		for _, n := range names {
			k[n] = item[n]
		}
		refs = append(refs, itemRef{table, k})
		return nil
	}
	type single struct {
		TableName string
		Item, Key map[string]json.RawMessage
	}
	switch op {
	case "PutItem", "UpdateItem", "DeleteItem":
		var in single
		if err := json.Unmarshal(body, &in); err != nil {
			return nil, err
		}
		if op == "PutItem" {
			return refs, whole(in.TableName, in.Item)
		}
		refs = append(refs, itemRef{in.TableName, in.Key})
	case "TransactWriteItems":
		var in struct {
			TransactItems []struct{ Put, Update, Delete *single }
		}
		if err := json.Unmarshal(body, &in); err != nil {
			return nil, err
		}
		for _, it := range in.TransactItems {
			switch {
			case it.Put != nil:
				if err := whole(it.Put.TableName, it.Put.Item); err != nil {
					return nil, err
				}
			case it.Update != nil:
				refs = append(refs, itemRef{it.Update.TableName, it.Update.Key})
			case it.Delete != nil:
				refs = append(refs, itemRef{it.Delete.TableName, it.Delete.Key})
			}
		}
	case "BatchWriteItem":
		var in struct {
			RequestItems map[string][]struct {
				PutRequest    *struct{ Item map[string]json.RawMessage }
				DeleteRequest *struct{ Key map[string]json.RawMessage }
			}
		}
		if err := json.Unmarshal(body, &in); err != nil {
			return nil, err
		}
		for _, table := range slices.Sorted(maps.Keys(in.RequestItems)) {
			for _, req := range in.RequestItems[table] {
				switch {
				case req.PutRequest != nil:
					if err := whole(table, req.PutRequest.Item); err != nil {
						return nil, err
					}
				case req.DeleteRequest != nil:
					refs = append(refs, itemRef{table, req.DeleteRequest.Key})
				}
			}
		}
	}
	return refs, nil
}

// keyNames learns a table's key attributes from DescribeTable, once.
func (rc *recorder) keyNames(table string, h http.Header) ([]string, error) {
	if names, ok := rc.keys[table]; ok {
		return names, nil
	}
	var out struct {
		Table struct {
			KeySchema []struct{ AttributeName string }
		}
	}
	if err := rc.call("DescribeTable", map[string]any{"TableName": table}, h, &out); err != nil {
		return nil, err
	}
	var names []string
	for _, k := range out.Table.KeySchema {
		names = append(names, k.AttributeName)
	}
	rc.keys[table] = names
	return names, nil
}

// images reads the items now, by a consistent GetItem each; a missing
// item is nil.
func (rc *recorder) images(refs []itemRef, h http.Header) map[string]map[string]json.RawMessage {
	out := map[string]map[string]json.RawMessage{}
	for _, ref := range refs {
		var got struct{ Item map[string]json.RawMessage }
		if err := rc.call("GetItem", map[string]any{"TableName": ref.table, "Key": ref.key, "ConsistentRead": true}, h, &got); err == nil {
			out[ref.id()] = got.Item
		}
	}
	return out
}

// call makes a request of the upstream in process. The caller's
// authorization headers go along: DynamoDB Local keeps one database per
// access key and region.
func (rc *recorder) call(op string, in any, h http.Header, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return err
	}
	req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	req.Header.Set("X-Amz-Target", "DynamoDB_20120810."+op)
	for _, name := range []string{"Authorization", "X-Amz-Date", "X-Amz-Security-Token"} {
		if v := h.Get(name); v != "" {
			req.Header.Set(name, v)
		}
	}
	rec := httptest.NewRecorder()
	rc.up.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		return fmt.Errorf("%s: %d %s", op, rec.Code, rec.Body.String())
	}
	return json.Unmarshal(rec.Body.Bytes(), out)
}

// emit appends a record for every item whose image changed.
func (rc *recorder) emit(refs []itemRef, before, after map[string]map[string]json.RawMessage) {
	seen := map[string]bool{}
	var records []events.DynamoDBEventRecord
	for _, ref := range refs {
		id := ref.id()
		if seen[id] {
			continue
		}
		seen[id] = true
		old, new := before[id], after[id]
		if sameImage(old, new) {
			continue
		}
		name := "MODIFY"
		switch {
		case old == nil:
			name = "INSERT"
		case new == nil:
			name = "REMOVE"
		}
		rec := events.DynamoDBEventRecord{
			EventName:      name,
			EventSource:    "aws:dynamodb",
			EventVersion:   "1.1",
			AWSRegion:      "local",
			EventSourceArn: "arn:aws:dynamodb:local:000000000000:table/" + ref.table + "/stream/local",
			Change: events.DynamoDBStreamRecord{
				ApproximateCreationDateTime: events.SecondsEpochTime{Time: time.Now()},
				Keys:                        image(ref.key),
				OldImage:                    image(old),
				NewImage:                    image(new),
				StreamViewType:              string(events.DynamoDBStreamViewTypeNewAndOldImages),
			},
		}
		records = append(records, rec)
	}
	rc.feed.append(records...)
}

// sameImage compares two items as values (not as JSON text).
func sameImage(a, b map[string]json.RawMessage) bool {
	if (a == nil) != (b == nil) || len(a) != len(b) {
		return false
	}
	var va, vb any
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	if json.Unmarshal(ja, &va) != nil || json.Unmarshal(jb, &vb) != nil {
		return false
	}
	return reflect.DeepEqual(va, vb)
}

// image converts an item in DynamoDB's JSON into a stream image, as
// Lambda delivers it.
func image(item map[string]json.RawMessage) map[string]events.DynamoDBAttributeValue {
	if item == nil {
		return nil
	}
	out := make(map[string]events.DynamoDBAttributeValue, len(item))
	for k, raw := range item {
		var v events.DynamoDBAttributeValue
		if err := json.Unmarshal(raw, &v); err == nil {
			out[k] = v
		}
	}
	return out
}
