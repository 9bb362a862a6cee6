package apigw

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"mime"
	"net/http"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"

	"github.com/orgcredit/orgcredit/internal/domain"
)

// MaxBodyBytes is the largest JSON request body either API accepts, but
// for batches.
const MaxBodyBytes = 64 << 10

// MaxBatchBodyBytes is the largest body of a batch request (POST
// /v1/usage/batch): 100 events of at most MaxBodyBytes each would not fit,
// but 100 events as they are sent (well under 1 KiB each) fit many times
// over.
const MaxBatchBodyBytes = 1 << 20

// DecodeJSON reads the JSON object in req's body into dst, a pointer to a
// struct, strictly: the content type must be application/json; the body at
// most MaxBodyBytes; exactly one object and nothing after it; every key a
// field of dst spelled exactly as its json tag (encoding/json alone would
// match "ID" to "id" and take the last of two duplicates, so a first pass
// over the tokens checks the keys itself); no key twice; each value of its
// field's JSON type; null only for fields tagged ",nullable"; fields
// tagged ",required" present. json.Number fields take integer literals
// only (no fraction, exponent or quotes); read them with Micros, and let
// the domain check their range.
//
// A field of type []json.RawMessage takes an array of JSON objects, each
// kept as it was sent, for the caller to decode on its own with
// DecodeObject; an element that is not an object refuses the body.
//
// The error is a *Problem (400, 413 or 415) that says what is wrong.
func DecodeJSON(req events.APIGatewayV2HTTPRequest, dst any) error {
	return DecodeJSONUpTo(req, dst, MaxBodyBytes)
}

// DecodeJSONUpTo is DecodeJSON with another limit of the body's size.
func DecodeJSONUpTo(req events.APIGatewayV2HTTPRequest, dst any, maxBytes int) error {
	if err := checkContentType(req); err != nil {
		return err
	}
	body, err := Body(req)
	if err != nil {
		return BadRequest("", "%v.", err)
	}
	if len(body) > maxBytes {
		return tooLarge(len(body), maxBytes)
	}
	if bytes.HasPrefix(body, []byte("\xef\xbb\xbf")) {
		// RFC 8259 forbids senders to add one; say so rather than report
		// an invalid character at byte 1.
		return BadRequest("", "The request body starts with a byte order mark (BOM); send the JSON without it.")
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return BadRequest("", "The request body is empty; send a JSON object.")
	}
	if !utf8.Valid(body) {
		return BadRequest("", "The request body is not valid UTF-8; send a JSON object in UTF-8.")
	}
	return decodeObject(body, dst)
}

// DecodeObject reads one JSON object, an element of an array read by
// DecodeJSON, into dst as strictly as DecodeJSON reads a body, with the
// same problems: the problem of an element is the one its object alone
// would have had as a request body (413 when it is over MaxBodyBytes).
func DecodeObject(raw []byte, dst any) error {
	if len(raw) > MaxBodyBytes {
		return tooLarge(len(raw), MaxBodyBytes)
	}
	return decodeObject(raw, dst)
}

// tooLarge is the 413 problem of a body of size bytes over limit.
func tooLarge(size, limit int) *Problem {
	unit := fmt.Sprintf("%d KiB", limit>>10)
	if limit%(1<<20) == 0 {
		unit = fmt.Sprintf("%d MiB", limit>>20)
	}
	return &Problem{Type: TypePayloadTooLarge, Title: "Payload too large", Status: http.StatusRequestEntityTooLarge,
		Detail: fmt.Sprintf("The request body is %d bytes; the limit is %d bytes (%s).", size, limit, unit),
		Extra:  map[string]any{"max_bytes": limit}}
}

func decodeObject(body []byte, dst any) error {
	t := reflect.TypeOf(dst)
	if t.Kind() != reflect.Pointer || t.Elem().Kind() != reflect.Struct {
		panic("apigw.DecodeJSON: dst must be a pointer to a struct")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := checkObject(dec, schemaOf(t.Elem()), ""); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return BadRequest("", "The request body has data after the JSON object; send exactly one object.")
	}
	dec = json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(dst); err != nil {
		// The first pass accepted the body, so this is a case it does not
		// know; still the caller's input.
		return BadRequest("", "The request body could not be read: %v.", err)
	}
	return nil
}

func checkContentType(req events.APIGatewayV2HTTPRequest) error {
	ct := Header(req, "Content-Type")
	unsupported := func(detail string) error {
		return &Problem{Type: TypeUnsupportedMediaType, Title: "Unsupported media type", Status: http.StatusUnsupportedMediaType,
			Detail: detail, Header: map[string]string{"Accept-Post": "application/json"}}
	}
	if ct == "" {
		return unsupported("The request has no Content-Type; send the body as JSON with Content-Type: application/json.")
	}
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil || mt != "application/json" {
		return unsupported(fmt.Sprintf("Content-Type %q is not supported; send the body as JSON with Content-Type: application/json.", ct))
	}
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") {
		return unsupported(fmt.Sprintf("charset %q is not supported; send UTF-8 (Content-Type: application/json; charset=utf-8).", cs))
	}
	return nil
}

// field is what the first pass knows of a struct field.
type field struct {
	name               string
	kind               valueKind
	required, nullable bool
	object             *schema // for nested objects
}

type schema struct {
	fields map[string]*field
	names  []string // sorted, for messages
}

type valueKind int

const (
	kindString valueKind = iota
	kindInteger
	kindBool
	kindObject
	kindObjects // []json.RawMessage: an array of objects, kept raw
)

var (
	numberType = reflect.TypeFor[json.Number]()
	rawsType   = reflect.TypeFor[[]json.RawMessage]()
)

var schemas sync.Map // reflect.Type → *schema

func schemaOf(t reflect.Type) *schema {
	if s, ok := schemas.Load(t); ok {
		return s.(*schema)
	}
	s := &schema{fields: map[string]*field{}}
	for i := range t.NumField() {
		sf := t.Field(i)
		tag := sf.Tag.Get("json")
		if !sf.IsExported() || tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if name == "" {
			name = sf.Name
		}
		f := &field{name: name}
		for o := range strings.SplitSeq(opts, ",") {
			switch o {
			case "required":
				f.required = true
			case "nullable":
				f.nullable = true
			}
		}
		ft := sf.Type
		if ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		switch {
		case ft == numberType:
			f.kind = kindInteger
		case ft == rawsType:
			f.kind = kindObjects
		case ft.Kind() == reflect.String:
			f.kind = kindString
		case ft.Kind() == reflect.Bool:
			f.kind = kindBool
		case ft.Kind() == reflect.Struct:
			f.kind = kindObject
			f.object = schemaOf(ft)
		default:
			panic("apigw: unsupported request field type " + ft.String())
		}
		s.fields[name] = f
		s.names = append(s.names, name)
	}
	slices.Sort(s.names)
	schemas.Store(t, s)
	return s
}

var integerLiteral = regexp.MustCompile(`^-?(0|[1-9][0-9]*)$`)

func checkObject(dec *json.Decoder, s *schema, path string) error {
	tok, err := dec.Token()
	if err != nil {
		return syntaxProblem(err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return BadRequest("", "The request body must be a JSON object, not %s.", describe(tok))
	}
	return checkMembers(dec, s, path)
}

// checkMembers checks an object's members after its '{'.
func checkMembers(dec *json.Decoder, s *schema, path string) error {
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return syntaxProblem(err)
		}
		key := tok.(string) // object keys are always strings
		name := join(path, key)
		f, ok := s.fields[key]
		if !ok {
			for _, n := range s.names {
				if strings.EqualFold(n, key) {
					return BadRequest(name, "Field names are case-sensitive: %q is not a field; write %q.", name, join(path, n))
				}
			}
			return BadRequest(name, "%q is not a field of this request; the fields are %s.", name, quoteAll(path, s.names))
		}
		if seen[key] {
			return BadRequest(name, "%q appears more than once; send each field once.", name)
		}
		seen[key] = true
		if err := checkValue(dec, f, name); err != nil {
			return err
		}
	}
	if _, err := dec.Token(); err != nil { // the closing '}'
		return syntaxProblem(err)
	}
	for _, n := range s.names {
		if f := s.fields[n]; f.required && !seen[n] {
			return BadRequest(join(path, n), "%q is required.", join(path, n))
		}
	}
	return nil
}

func checkValue(dec *json.Decoder, f *field, name string) error {
	tok, err := dec.Token()
	if err != nil {
		return syntaxProblem(err)
	}
	if tok == nil {
		if f.nullable {
			return nil
		}
		if f.required {
			return BadRequest(name, "%q is required and cannot be null.", name)
		}
		return BadRequest(name, "%q cannot be null; leave the field out instead.", name)
	}
	switch f.kind {
	case kindObject:
		if d, ok := tok.(json.Delim); !ok || d != '{' {
			return BadRequest(name, "%q must be a JSON object, not %s.", name, describe(tok))
		}
		return checkMembers(dec, f.object, name)
	case kindObjects:
		if d, ok := tok.(json.Delim); !ok || d != '[' {
			return BadRequest(name, "%q must be a JSON array of objects, not %s.", name, describe(tok))
		}
		return checkObjects(dec, name)
	case kindString:
		v, ok := tok.(string)
		if !ok {
			return BadRequest(name, "%q must be a string, not %s.", name, describe(tok))
		}
		// Control characters have no place in ids, names, kinds or
		// reasons; they would end up in the audit trail, logs and Slack
		// messages.
		if i := strings.IndexFunc(v, unicode.IsControl); i >= 0 {
			r, _ := utf8.DecodeRuneInString(v[i:])
			return BadRequest(name, "%q contains the control character U+%04X; send text without control characters.", name, r)
		}
	case kindBool:
		if _, ok := tok.(bool); !ok {
			return BadRequest(name, "%q must be true or false, not %s.", name, describe(tok))
		}
	case kindInteger:
		n, ok := tok.(json.Number)
		if !ok {
			return BadRequest(name, "%q must be a JSON integer (a number without quotes), not %s.", name, describe(tok))
		}
		if !integerLiteral.MatchString(string(n)) {
			return BadRequest(name, "%q must be a whole number of micro-credits written as a plain integer, without fraction or exponent: got %s.", name, string(n))
		}
	}
	return nil
}

// checkObjects checks the elements of an array after its '[': each is a
// JSON object, well-formed; what is inside is the caller's to check, on
// its own (see DecodeObject).
func checkObjects(dec *json.Decoder, name string) error {
	for i := 0; dec.More(); i++ {
		// Decoding into a RawMessage checks the element is well-formed
		// without a token, and an allocation, per value inside it.
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return syntaxProblem(err)
		}
		if raw[0] != '{' {
			first := json.NewDecoder(bytes.NewReader(raw))
			first.UseNumber()
			tok, _ := first.Token()
			elem := fmt.Sprintf("%s[%d]", name, i)
			return BadRequest(elem, "%q must be a JSON object, not %s.", elem, describe(tok))
		}
	}
	if _, err := dec.Token(); err != nil { // the closing ']'
		return syntaxProblem(err)
	}
	return nil
}

func syntaxProblem(err error) error {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return BadRequest("", "The request body is not valid JSON (at byte %d: %v).", se.Offset, se)
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return BadRequest("", "The request body ends before the JSON object is complete.")
	}
	return BadRequest("", "The request body is not valid JSON: %v.", err)
}

func describe(tok json.Token) string {
	switch v := tok.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case json.Number:
		return "a number"
	case bool:
		return "a boolean"
	case json.Delim:
		switch v {
		case '[':
			return "an array"
		case '{':
			return "an object"
		}
	}
	return fmt.Sprintf("%v", tok)
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func quoteAll(path string, names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = strconv.Quote(join(path, n))
	}
	return strings.Join(q, ", ")
}

// Micros reads an integer number of micro-credits from a JSON number
// field. It only reads: the domain checks the range (positive, at most the
// field's documented maximum) and says what is allowed. A number beyond
// int64 reads as the largest (or smallest) int64, which the domain then
// refuses as too large (or not positive).
func Micros(field string, n json.Number) (domain.Micros, error) {
	if n == "" {
		return 0, BadRequest(field, "%q is required.", field)
	}
	v, err := strconv.ParseInt(string(n), 10, 64)
	if err != nil {
		if ne, ok := errors.AsType[*strconv.NumError](err); ok && errors.Is(ne.Err, strconv.ErrRange) {
			if strings.HasPrefix(string(n), "-") {
				return math.MinInt64, nil
			}
			return math.MaxInt64, nil
		}
		return 0, BadRequest(field, "%q must be an integer number of micro-credits.", field)
	}
	return domain.Micros(v), nil
}
