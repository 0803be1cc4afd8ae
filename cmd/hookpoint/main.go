// Command hookpoint wraps jobs in lifecycle hooks: HTTP webhooks and commands fired at
// each phase, with gate semantics, ordering, templating, signing and a journal.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/hookpoint/hookpoint/internal/clip"
)

func main() {
	root := newRootCommand()
	root.SetArgs(hoistSharedFlags(os.Args[1:]))
	err := root.ExecuteContext(context.Background())
	os.Exit(exitCode(err))
}

// exitError carries the exit code a command wants.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit status %d", e.code)
	}
	return e.err.Error()
}

func (e *exitError) Unwrap() error { return e.err }

// Exit codes.
const (
	exitOK         = 0
	exitAborted    = 1  // emit: a hook aborted the event
	exitUsage      = 2  // bad usage or configuration
	exitUndeliver  = 3  // emit: async deliveries left undelivered
	exitGateAbort  = 75 // run: a pre hook aborted the job (EX_TEMPFAIL)
	exitNotFound   = 127
	exitCannotExec = 126
)

func usageErr(format string, args ...any) error {
	return &exitError{code: exitUsage, err: fmt.Errorf(format, args...)}
}

func exitCode(err error) int {
	if err == nil {
		return exitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil {
			fmt.Fprintln(os.Stderr, "hookpoint:", boundLines(ee.err.Error()))
		}
		return ee.code
	}
	fmt.Fprintln(os.Stderr, "hookpoint:", boundLines(err.Error()))
	return 1
}

// boundLines cuts each line of a message to maxLogValue bytes: an error may quote a
// value (an event type, a hook's error) of any size.
func boundLines(msg string) string {
	lines := strings.Split(msg, "\n")
	for i, l := range lines {
		lines[i], _ = clip.String(l, maxLogValue)
	}
	return strings.Join(lines, "\n")
}
