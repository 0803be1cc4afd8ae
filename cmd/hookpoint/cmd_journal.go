package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/hookpoint/hookpoint/internal/fleet"
	"github.com/hookpoint/hookpoint/internal/journal"
	"github.com/hookpoint/hookpoint/internal/match"
)

type journalOptions struct {
	Runs     []string
	Hooks    []string
	Events   []string
	Outcomes []string
	Since    string
	Until    string
	Output   string
	Follow   bool
}

// journalOutcomes are the outcomes a journal record can have: a hook's, and those of
// the events a node sent to its server (--server).
var journalOutcomes = []string{"ok", "failed", "timeout", "skipped", fleet.OutcomeSpooled, fleet.OutcomeDropped}

func (o *journalOptions) AddFlags(fs *pflag.FlagSet) {
	fs.StringArrayVar(&o.Runs, "run", nil, "only the records of this run `ID` (repeatable)")
	fs.StringArrayVar(&o.Hooks, "hook", nil, "only the records of this hook `ID` (repeatable)")
	fs.StringArrayVar(&o.Events, "event", nil, "only the records whose event type matches `PATTERN`; * matches any run of characters (repeatable)")
	fs.StringSliceVar(&o.Outcomes, "outcome", nil, "only the records with this `OUTCOME`: ok, failed, timeout, skipped, spooled or dropped (repeatable, or comma-separated)")
	fs.StringVar(&o.Since, "since", "", "only the records at or after `TIME`: a duration ago (2h, 30m), RFC 3339 (2026-05-01T02:00:00Z) or a local date (2026-05-01)")
	fs.StringVar(&o.Until, "until", "", "only the records before `TIME`, in the same forms as --since")
	outputFlag(fs, &o.Output)
	fs.BoolVarP(&o.Follow, "follow", "f", false, "once at the end, print records as they are written, across rotation and truncation, until interrupted")
}

func newJournalCommand() *cobra.Command {
	o := &journalOptions{}
	c := &cobra.Command{
		Use:   "journal [flags] [FILE...]",
		Short: "Read journals: filter by run, hook, event, outcome and time; follow one being written",
		Long: `Read journal files (written with --journal), oldest record first: a table by default,
the records as JSON lines with -o json. Without FILE, $HOOKPOINT_JOURNAL is read; - is
standard input.

Filters combine: a record is shown when it matches every filter given, and any of the
values of a repeated one. With -f the files are followed: new records are printed as they
are written, a rotated file is left for the new one at the same path, a truncated one is
read again from its start; Ctrl-C ends. A line longer than 1 MiB or one that is not a
record is reported on stderr and skipped.

Exit status: 0, 1 when a file could not be read, 2 on a usage error.`,
		ValidArgsFunction: func(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
			return nil, cobra.ShellCompDirectiveDefault // file names
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return runJournal(cmd.Context(), o, args, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	o.AddFlags(c.Flags())
	for flag, field := range map[string]func(*journal.Record) string{
		"run":   func(r *journal.Record) string { return r.RunID },
		"hook":  func(r *journal.Record) string { return r.HookID },
		"event": func(r *journal.Record) string { return r.EventType },
	} {
		_ = c.RegisterFlagCompletionFunc(flag, func(_ *cobra.Command, args []string, _ string) ([]cobra.Completion, cobra.ShellCompDirective) {
			return journalValues(args, field), cobra.ShellCompDirectiveNoFileComp
		})
	}
	_ = c.RegisterFlagCompletionFunc("outcome", cobra.FixedCompletions(journalOutcomes, cobra.ShellCompDirectiveNoFileComp))
	_ = c.RegisterFlagCompletionFunc("output", cobra.FixedCompletions([]string{"text", "json"}, cobra.ShellCompDirectiveNoFileComp))
	return c
}

// journalFilter decides which records are shown.
type journalFilter struct {
	runs, hooks, events, outcomes []string
	since, until                  time.Time // zero: no bound
}

func (f *journalFilter) keep(r *journal.Record) bool {
	if len(f.runs) > 0 && !slices.Contains(f.runs, r.RunID) ||
		len(f.hooks) > 0 && !slices.Contains(f.hooks, r.HookID) ||
		len(f.outcomes) > 0 && !slices.Contains(f.outcomes, r.Outcome) ||
		!f.since.IsZero() && r.Time.Before(f.since) ||
		!f.until.IsZero() && !r.Time.Before(f.until) {
		return false
	}
	if len(f.events) == 0 {
		return true
	}
	return slices.ContainsFunc(f.events, func(p string) bool { return match.Pattern(p, r.EventType) })
}

// parseWhen reads a --since or --until value: a duration before now, RFC 3339, or a date
// or date and time in the local zone.
func parseWhen(flag, v string, now time.Time) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	if d, err := time.ParseDuration(v); err == nil {
		if d < 0 {
			return time.Time{}, usageErr("--%s %q: a duration means that long ago; write it without a sign", flag, v)
		}
		return now.Add(-d), nil
	}
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t, nil
	}
	for _, layout := range []string{"2006-01-02", "2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02T15:04", "2006-01-02 15:04"} {
		if t, err := time.ParseInLocation(layout, v, time.Local); err == nil {
			return t, nil
		}
	}
	return time.Time{}, usageErr("--%s %q: write a duration ago (2h, 30m), RFC 3339 (2026-05-01T02:00:00Z) or a date (2026-05-01)", flag, v)
}

func (o *journalOptions) filter(now time.Time) (*journalFilter, error) {
	f := &journalFilter{runs: o.Runs, hooks: o.Hooks, events: o.Events}
	for _, v := range o.Outcomes {
		if !slices.Contains(journalOutcomes, v) {
			return nil, usageErr("--outcome %q: use %s", v, strings.Join(journalOutcomes, ", "))
		}
		f.outcomes = append(f.outcomes, v)
	}
	for _, p := range o.Events {
		if p == "" || strings.ContainsAny(p, " /") {
			return nil, usageErr("--event %q: write an event type or a pattern such as backup.* or *.end", p)
		}
	}
	var err error
	if f.since, err = parseWhen("since", o.Since, now); err != nil {
		return nil, err
	}
	if f.until, err = parseWhen("until", o.Until, now); err != nil {
		return nil, err
	}
	return f, nil
}

func runJournal(ctx context.Context, o *journalOptions, files []string, stdout, stderr io.Writer) error {
	if err := checkOutput(o.Output); err != nil {
		return err
	}
	filter, err := o.filter(time.Now())
	if err != nil {
		return err
	}
	if len(files) == 0 {
		j := os.Getenv("HOOKPOINT_JOURNAL")
		if j == "" {
			return usageErr("no journal FILE given and HOOKPOINT_JOURNAL is not set (see hookpoint journal --help)")
		}
		files = []string{j}
	}
	if o.Follow && slices.Contains(files, "-") {
		return usageErr("-f follows files; standard input cannot be followed")
	}
	p := &journalPrinter{w: stdout, stderr: stderr, json: o.Output == "json", filter: filter}
	h := lineHandler{line: p.line, tooLong: p.tooLong, notice: p.notice}
	failed := false
	if !o.Follow {
		for _, name := range files {
			if err := readJournal(name, h); err != nil {
				fmt.Fprintln(stderr, "hookpoint:", err)
				failed = true
			}
		}
	} else {
		ctx, stop, _ := signalContext(ctx)
		defer stop()
		var wg sync.WaitGroup
		var mu sync.Mutex
		for _, name := range files {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := followLines(ctx, name, h); err != nil {
					p.mu.Lock()
					fmt.Fprintln(stderr, "hookpoint:", journalFileError(name, err))
					p.mu.Unlock()
					mu.Lock()
					failed = true
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
	}
	if failed {
		return &exitError{code: 1}
	}
	return nil
}

func readJournal(name string, h lineHandler) error {
	if name == "-" {
		return readLines("-", os.Stdin, h)
	}
	f, err := os.Open(name)
	if err != nil {
		return journalFileError(name, err)
	}
	defer f.Close()
	if err := readLines(name, f, h); err != nil {
		return journalFileError(name, err)
	}
	return nil
}

// journalPrinter prints the records that pass the filter, one at a time (followed files
// are read concurrently).
type journalPrinter struct {
	mu     sync.Mutex
	w      io.Writer
	stderr io.Writer
	json   bool
	filter *journalFilter
	header bool // the table's header was written
}

func (p *journalPrinter) line(file string, n int, b []byte) {
	if len(strings.TrimSpace(string(b))) == 0 {
		return
	}
	var r journal.Record
	if err := json.Unmarshal(b, &r); err != nil || r.EventType == "" && r.HookID == "" {
		why := "not a journal record"
		if err != nil {
			why += ": " + jsonProblem(err)
		}
		p.warn(file, n, why)
		return
	}
	if !p.filter.keep(&r) {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.json {
		_, _ = p.w.Write(append(b, '\n'))
		return
	}
	if !p.header {
		fmt.Fprintln(p.w, fmt.Sprintf(journalRow, "TIME", "EVENT", "HOOK", "OUTCOME", "RESULT", "DURATION", "RUN", "ERROR"))
		p.header = true
	}
	result := ""
	switch {
	case r.Status != 0:
		result = fmt.Sprint(r.Status)
	case r.ExitCode != nil:
		result = fmt.Sprintf("exit %d", *r.ExitCode)
	}
	if r.Attempt > 1 {
		result += fmt.Sprintf(" #%d", r.Attempt)
	}
	row := fmt.Sprintf(journalRow, r.Time.Local().Format("2006-01-02 15:04:05"), printable(r.EventType), printable(r.HookID),
		printable(r.Outcome), strings.TrimSpace(result), formatMS(r.DurationMS), printable(r.RunID), oneLine(r.Error))
	fmt.Fprintln(p.w, strings.TrimRight(row, " "))
}

// journalRow lays out one row of the table; wider values push the rest along.
const journalRow = "%-19s  %-24s  %-16s  %-8s  %-8s  %8s  %-30s  %s"

func (p *journalPrinter) tooLong(file string, n int, size int64) {
	p.warn(file, n, fmt.Sprintf("line of %d bytes, longer than the %d a record may be; skipped", size, maxJournalLine))
}

func (p *journalPrinter) notice(file, msg string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.stderr, "hookpoint: %s: %s\n", file, msg)
}

func (p *journalPrinter) warn(file string, n int, msg string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.stderr, "hookpoint: %s:%d: %s\n", file, n, msg)
}

// jsonProblem says what is wrong with a line without Go's type names.
func jsonProblem(err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return fmt.Sprintf("invalid JSON at byte %d", se.Offset)
	case errors.As(err, &te):
		return fmt.Sprintf("field %s has the wrong type", te.Field)
	}
	return "invalid JSON"
}

// formatMS shows a duration in milliseconds as people write durations.
func formatMS(ms float64) string {
	d := time.Duration(ms * float64(time.Millisecond))
	switch {
	case d < time.Millisecond:
		return fmt.Sprintf("%.2fms", ms)
	case d < time.Second:
		return fmt.Sprintf("%.1fms", ms)
	case d < time.Minute:
		return fmt.Sprintf("%.2fs", d.Seconds())
	}
	return d.Round(time.Second).String()
}

// oneLine shows a message on one line of the table.
func oneLine(s string) string {
	return printable(strings.Join(strings.Fields(strings.ReplaceAll(s, "\n", " | ")), " "))
}

// journalValues returns the distinct values of a field in the journals named on the
// command line (up to a bound), for completion.
func journalValues(args []string, field func(*journal.Record) string) []string {
	var out []string
	const maxLines = 100000
	lines := 0
	for _, name := range args {
		if name == "-" || lines >= maxLines {
			continue
		}
		_ = readJournalLimited(name, func(b []byte) bool {
			lines++
			var r journal.Record
			if json.Unmarshal(b, &r) == nil {
				if v := field(&r); v != "" && !slices.Contains(out, v) {
					out = append(out, v)
				}
			}
			return lines < maxLines
		})
	}
	slices.Sort(out)
	return out
}

func readJournalLimited(name string, each func([]byte) bool) error {
	f, err := os.Open(name)
	if err != nil {
		return err
	}
	defer f.Close()
	more := true
	return readLines(name, readerWhile(f, &more), lineHandler{
		line:    func(_ string, _ int, b []byte) { more = more && each(b) },
		tooLong: func(string, int, int64) {},
		notice:  func(string, string) {},
	})
}

// readerWhile reads from r while *more holds.
func readerWhile(r io.Reader, more *bool) io.Reader {
	return readerFunc(func(p []byte) (int, error) {
		if !*more {
			return 0, io.EOF
		}
		return r.Read(p)
	})
}

type readerFunc func([]byte) (int, error)

func (f readerFunc) Read(p []byte) (int, error) { return f(p) }
