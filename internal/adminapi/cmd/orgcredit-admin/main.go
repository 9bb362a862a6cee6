// Command orgcredit-admin is the operators' client of the admin API: every
// admin operation as a command, against the deployed API (requests signed
// with SigV4 from the operator's AWS credentials) or the local server (its
// admin token). Run it with --help for the operations.
package main

import (
	"context"
	"os"
	"os/signal"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr, Env{Getenv: os.Getenv, Stdin: os.Stdin})
	stop()
	os.Exit(code)
}
