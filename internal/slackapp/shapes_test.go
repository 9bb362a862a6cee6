package slackapp_test

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"testing"

	"github.com/orgcredit/orgcredit/internal/slacktestx"
)

// shapes are the payloads the tests' app sent to Slack and answered it,
// type-checked against Slack's own TypeScript types once all tests ran.
var shapes struct {
	sync.Mutex
	list []slacktestx.Shape
}

func collectShapes(s ...slacktestx.Shape) {
	shapes.Lock()
	defer shapes.Unlock()
	shapes.list = append(shapes.list, s...)
}

// TestMain runs the tests, then compiles every view, message and answer
// they made the app send with tsc against @slack/types (pinned in
// .tools/package.json, installed by make tools, so `make test` always
// runs it): a second opinion on their shape, from Slack's own SDK, besides
// the limits the fake Slack checks. Without the tools it says so in -v
// runs and passes, except under CI=true, where it fails.
func TestMain(m *testing.M) {
	code := m.Run()
	shapes.Lock()
	list := shapes.list
	shapes.Unlock()
	switch err := slacktestx.TypeCheck(list); {
	case errors.Is(err, slacktestx.ErrNoTypeScript) && os.Getenv("CI") == "true":
		fmt.Printf("--- FAIL: TestMain: CI must type-check the payloads: %v\nFAIL\n", err)
		code = 1
	case errors.Is(err, slacktestx.ErrNoTypeScript):
		if testing.Verbose() {
			fmt.Println("slackapp: payloads not type-checked:", err)
		}
	case err != nil:
		fmt.Printf("--- FAIL: TestMain: the payloads of the tests, against @slack/types\n%v\nFAIL\n", err)
		code = 1
	case testing.Verbose():
		fmt.Printf("slackapp: %d payloads type-check against @slack/types\n", len(list))
	}
	os.Exit(code)
}
