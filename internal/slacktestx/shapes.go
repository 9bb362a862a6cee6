package slacktestx

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/aws/aws-lambda-go/events"
)

// Shape is a payload Slack receives with the TypeScript type it must have
// in Slack's own type definitions (@slack/types), for TypeCheck.
type Shape struct {
	Name string // where it came from: "views.publish #3"
	Type string // Message, View, ViewSubmissionResponse or OptionsResponse
	JSON []byte
}

// prelude defines the types of TypeCheck over @slack/types: the blocks and
// views there, and the few answers it has no type for (written from the
// same reference pages). %s is the path of @slack/types' index.
const prelude = `import type { KnownBlock, ModalView, HomeView, PlainTextElement, PlainTextOption } from %s;
type Message = { text?: string; blocks?: KnownBlock[]; response_type?: "ephemeral" | "in_channel"; replace_original?: boolean; delete_original?: boolean };
type View = ModalView | HomeView;
type ViewSubmissionResponse =
	| { response_action: "clear" }
	| { response_action: "errors"; errors: Record<string, string> }
	| { response_action: "update" | "push"; view: ModalView };
type OptionsResponse = { options: PlainTextOption[] } | { option_groups: { label: PlainTextElement; options: PlainTextOption[] }[] };
`

// Shapes returns the views and messages of the recorded calls as Shapes:
// the view of views.*, the text and blocks of chat.*.
func (s *Server) Shapes() []Shape {
	var out []Shape
	for i, c := range s.Calls() {
		name := fmt.Sprintf("%s #%d", c.Method, i+1)
		switch {
		case strings.HasPrefix(c.Method, "views."):
			raw, ok := c.JSON["view"]
			if !ok {
				raw = json.RawMessage(c.Form.Get("view"))
			}
			out = append(out, Shape{Name: name, Type: "View", JSON: raw})
		case strings.HasPrefix(c.Method, "chat."):
			m := map[string]any{}
			if t := c.Param("text"); t != "" {
				m["text"] = t
			}
			if b := c.Form.Get("blocks"); b != "" {
				m["blocks"] = json.RawMessage(b)
			} else if b, ok := c.JSON["blocks"]; ok {
				m["blocks"] = b
			}
			raw, err := json.Marshal(m)
			if err != nil {
				raw = []byte(err.Error()) // not TypeScript: TypeCheck reports it
			}
			out = append(out, Shape{Name: name, Type: "Message", JSON: raw})
		}
	}
	return out
}

// AnswerShape is the Shape of the app's HTTP answer to the Slack request
// body, for the answers CheckAnswer checks; ok is false for others.
func AnswerShape(body []byte, resp events.APIGatewayV2HTTPResponse) (s Shape, ok bool) {
	ct, _, _ := mime.ParseMediaType(resp.Headers["Content-Type"])
	if resp.StatusCode != http.StatusOK || resp.Body == "" || ct != "application/json" {
		return s, false
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return s, false
	}
	switch {
	case form.Get("payload") != "":
		var p struct {
			Type string `json:"type"`
		}
		if json.Unmarshal([]byte(form.Get("payload")), &p) != nil {
			return s, false
		}
		switch p.Type {
		case "view_submission":
			s.Type = "ViewSubmissionResponse"
		case "block_suggestion":
			s.Type = "OptionsResponse"
		default:
			return s, false
		}
		s.Name = p.Type + " answer"
	case form.Get("command") != "":
		s.Name, s.Type = form.Get("command")+" answer", "Message"
	default:
		return s, false
	}
	s.JSON = []byte(resp.Body)
	return s, true
}

// ErrNoTypeScript is TypeCheck's error when the pinned TypeScript compiler
// or @slack/types is not installed (make tools installs them).
var ErrNoTypeScript = errors.New("tsc or @slack/types is not installed in .tools/node_modules: run make tools")

// TypeCheck compiles the shapes, each as a constant of its type, with the
// TypeScript compiler (tsc --noEmit) against @slack/types, both pinned in
// .tools/package.json. It returns nil when all compile, ErrNoTypeScript
// when the tools are missing, or an error naming each shape tsc refused
// with tsc's complaint. Identical shapes are checked once.
func TypeCheck(shapes []Shape) error {
	root, err := moduleRoot()
	if err != nil {
		return err
	}
	modules := filepath.Join(root, ".tools", "node_modules")
	tsc := filepath.Join(modules, ".bin", "tsc")
	types := filepath.Join(modules, "@slack", "types", "dist", "index.js")
	for _, p := range []string{tsc, strings.TrimSuffix(types, ".js") + ".d.ts"} {
		if _, err := os.Stat(p); err != nil {
			return ErrNoTypeScript
		}
	}
	dir, err := os.MkdirTemp("", "slack-shapes-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	var src bytes.Buffer
	fmt.Fprintf(&src, prelude, strconv.Quote(types))
	first := strings.Count(src.String(), "\n") + 1 // line of the first shape
	seen := map[string]bool{}
	var names []string
	for _, s := range shapes {
		key := s.Type + "\x00" + string(s.JSON)
		if seen[key] {
			continue
		}
		seen[key] = true
		var compact bytes.Buffer
		if err := json.Compact(&compact, s.JSON); err != nil {
			compact.Reset()
			compact.WriteString(strconv.Quote(string(s.JSON))) // fails to compile, as it should
		}
		fmt.Fprintf(&src, "export const s%d: %s = %s;\n", len(names), s.Type, compact.Bytes())
		names = append(names, s.Name)
	}
	if len(names) == 0 {
		return nil
	}
	if err := os.WriteFile(filepath.Join(dir, "shapes.ts"), src.Bytes(), 0o644); err != nil {
		return err
	}
	config := `{"compilerOptions": {"strict": true, "noEmit": true, "module": "nodenext", "moduleResolution": "nodenext",
		"target": "es2022", "skipLibCheck": true, "types": []}, "files": ["shapes.ts"]}`
	if err := os.WriteFile(filepath.Join(dir, "tsconfig.json"), []byte(config), 0o644); err != nil {
		return err
	}
	cmd := exec.Command(tsc, "-p", dir, "--pretty", "false")
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err == nil {
		return nil
	}
	// tsc writes "shapes.ts(LINE,COL): error TSnnnn: ..." then indented
	// detail lines; name the shape of each.
	at := regexp.MustCompile(`^shapes\.ts\((\d+),\d+\): (.*)$`)
	var b strings.Builder
	b.WriteString("tsc refuses payloads against @slack/types:\n")
	for _, line := range strings.Split(strings.TrimRight(string(out), "\n"), "\n") {
		if m := at.FindStringSubmatch(line); m != nil {
			n, _ := strconv.Atoi(m[1])
			if i := n - first; i >= 0 && i < len(names) {
				fmt.Fprintf(&b, "%s: %s\n", names[i], m[2])
				continue
			}
		}
		b.WriteString(line + "\n")
	}
	return errors.New(strings.TrimRight(b.String(), "\n"))
}

// moduleRoot is the directory of the go.mod above the working directory.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
}
