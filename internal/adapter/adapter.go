// Package adapter holds what the adapters for existing tools' hook scripts share: each
// sub-package turns one tool's invocation (argv and environment) into an event.
package adapter

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// UsageError is a bad invocation: the tool (or a person) called the adapter with
// arguments it cannot make an event from. No hook fires.
type UsageError struct {
	Msg string
}

func (e *UsageError) Error() string { return e.Msg }

// Usagef returns a UsageError.
func Usagef(format string, args ...any) error {
	return &UsageError{Msg: fmt.Sprintf(format, args...)}
}

// Unknown comes back together with an event made from an invocation the adapter does not
// know: a phase or hook type that a newer release of the tool added. The event carries
// what could be read and is fired as a notification; Msg says what was not understood.
// A tool would fail its job on a hook script's usage error, so an unknown phase must not
// be one.
type Unknown struct {
	Msg string
}

func (e *Unknown) Error() string { return e.Msg }

// maxToken bounds a phase or type taken into an event type.
const maxToken = 64

// Token checks that a phase or type the adapter does not know can be part of an event
// type: letters, digits, '-' and '_', starting with a letter or digit. Anything else
// (spaces, slashes, dots) is a usage error: nothing fires.
func Token(what, v string) error {
	ok := v != "" && len(v) <= maxToken
	for i := 0; ok && i < len(v); i++ {
		c := v[i]
		alnum := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
		ok = alnum || i > 0 && (c == '-' || c == '_')
	}
	if !ok {
		return Usagef("%s %q: must be letters, digits, '-' and '_' (at most %d), starting with a letter or digit", what, v, maxToken)
	}
	return nil
}

// Env reads one variable; adapters take a func so tests need not touch the process
// environment.
type Env func(string) string

// RunID correlates the separate invocations one tool makes for one job: HOOKPOINT_RUN_ID
// when set, otherwise derived from the calling process (its pid and start time, so the
// id is the same for every phase of one job and differs between jobs), otherwise from
// fallback.
func RunID(env Env, tool, fallback string) string {
	if id := env("HOOKPOINT_RUN_ID"); id != "" {
		return id
	}
	if id := parentID(); id != "" {
		return tool + "-" + id
	}
	return tool + "-" + fallback
}

// parentID returns "<ppid>-<start time in clock ticks>" from /proc, or "".
func parentID() string {
	ppid := os.Getppid()
	if ppid <= 1 {
		return ""
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(ppid) + "/stat")
	if err != nil {
		return ""
	}
	// The command name (field 2) may hold spaces and parentheses: fields start after the
	// last ')'. starttime is field 22, the 20th after it.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return ""
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 20 {
		return ""
	}
	return strconv.Itoa(ppid) + "-" + f[19]
}

// Uint parses a non-negative decimal argument, naming it in the error.
func Uint(name, v string) (int64, error) {
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return 0, Usagef("%s must be a non-negative whole number, got %q", name, v)
	}
	return n, nil
}

// EventSpec describes one event type an adapter makes and every status such an event can
// carry (event.StatusNone among them when it may carry none), so that a config can be
// checked against what the adapters really send.
type EventSpec struct {
	Type     string
	Statuses []string
}

// AddStatus appends s to the statuses the event may carry unless it is there already.
func (e *EventSpec) AddStatus(s string) {
	for _, have := range e.Statuses {
		if have == s {
			return
		}
	}
	e.Statuses = append(e.Statuses, s)
}
