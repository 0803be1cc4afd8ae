package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/hookpoint/hookpoint"
	"github.com/hookpoint/hookpoint/internal/fleet"
	"github.com/hookpoint/hookpoint/internal/journal"
	"github.com/hookpoint/hookpoint/internal/safefile"
)

// fleetOptions are the flags that send events to hookpoint serve, which runs the hooks
// and answers the verdict, instead of firing the hooks of a local config.
type fleetOptions struct {
	Server      string
	TokenFile   string
	Unreachable string
	Timeout     time.Duration
	Retry       time.Duration
	CAFile      string
	Spool       string
}

// Values of --server-unreachable.
const (
	unreachableAbort   = "abort"
	unreachableProceed = "proceed"
)

// AddFleetFlags registers the flags of the commands that can send their events to a
// server: emit, run and the adapters.
func (o *globalOptions) AddFleetFlags(fs *pflag.FlagSet) {
	f := &o.Fleet
	fs.StringVar(&f.Server, "server", os.Getenv("HOOKPOINT_SERVER"), "send the events to hookpoint serve at this `URL`, which runs the hooks and answers the verdict; the local config is not read (env HOOKPOINT_SERVER)")
	fs.StringVar(&f.TokenFile, "token-file", "", "read the server's token from this `FILE` (default: env HOOKPOINT_TOKEN)")
	fs.StringVar(&f.Unreachable, "server-unreachable", unreachableAbort, "what a gate does when the server cannot be reached: `abort|proceed` (abort: as a failed pre hook); notifications are spooled")
	fs.DurationVar(&f.Timeout, "server-timeout", 0, "bound of one event's exchange with the server, retries included (default 15m for a gate, which waits for the server's hooks, 30s for a notification)")
	fs.DurationVar(&f.Retry, "server-retry", 0, "how long to keep trying a server that cannot be reached before giving up (default 30s for a gate, 10s for a notification)")
	fs.StringVar(&f.CAFile, "server-ca", "", "PEM `FILE` with the certificate authority of the server's certificate (trusted besides the system's)")
	fs.StringVar(&f.Spool, "spool", os.Getenv("HOOKPOINT_SPOOL"), "keep the notifications the server could not take in this `FILE` (env HOOKPOINT_SPOOL; default: /var/lib/hookpoint/spool.jsonl for root, else $XDG_STATE_HOME/hookpoint/spool.jsonl)")
}

// firer fires events: the hooks of the local config (env) or those of the server
// (fleetEnv).
type firer interface {
	fire(ctx context.Context, ev *hookpoint.Event) (*hookpoint.Outcome, error)
	// close ends what firing left under way: local async hooks are given up to deadline;
	// the spool is sent to a server that answered. It reports whether every async hook
	// was delivered.
	close(ctx context.Context, deadline time.Duration) bool
}

var (
	_ firer = (*env)(nil)
	_ firer = (*fleetEnv)(nil)
)

func (e *env) fire(ctx context.Context, ev *hookpoint.Event) (*hookpoint.Outcome, error) {
	return e.engine.Fire(ctx, ev)
}

// openFirer returns the server's firer when --server (or HOOKPOINT_SERVER) names one,
// else the local engine.
func (g *globalOptions) openFirer() (firer, error) {
	if g.Fleet.Server != "" {
		return g.openFleet()
	}
	return g.open()
}

// fleetEnv sends events to the server.
type fleetEnv struct {
	node    *fleet.Node
	logger  *slog.Logger
	journal *journal.File
}

// openFleet checks the fleet flags and builds the node. Nothing is sent yet.
func (g *globalOptions) openFleet() (*fleetEnv, error) {
	o := &g.Fleet
	log, err := g.logger()
	if err != nil {
		return nil, err
	}
	from := "--server"
	if o.Server == os.Getenv("HOOKPOINT_SERVER") {
		from = "HOOKPOINT_SERVER"
	}
	if _, err := fleet.ParseServerURL(o.Server); err != nil {
		return nil, usageErr("%s: %v", from, err)
	}
	if o.Unreachable != unreachableAbort && o.Unreachable != unreachableProceed {
		return nil, usageErr("--server-unreachable %q: use abort or proceed", o.Unreachable)
	}
	if o.Timeout < 0 || o.Retry < 0 {
		return nil, usageErr("--server-timeout and --server-retry cannot be negative")
	}
	tok, err := o.token()
	if err != nil {
		return nil, err
	}
	client, err := fleet.New(fleet.Options{URL: o.Server, Token: tok, CAFile: o.CAFile})
	if err != nil { // the token or --server-ca: the URL was checked above
		return nil, usageErr("%v", err)
	}
	spool := o.Spool
	if spool == "" {
		if spool, err = fleet.DefaultSpoolPath(os.Geteuid(), os.Getenv); err != nil {
			return nil, usageErr("%v", err)
		}
	}
	f := &fleetEnv{logger: log}
	recs := journal.Multi{journal.Logger{L: log}}
	if g.JournalPath != "" {
		j, err := journal.OpenFile(g.JournalPath)
		if err != nil {
			return nil, &exitError{code: exitUsage, err: err}
		}
		f.journal = j
		recs = append(recs, j)
	}
	f.node = &fleet.Node{
		Client: client, Spool: &fleet.Spool{Path: spool}, Journal: recs, Results: journal.Logger{L: log},
		Proceed:     o.Unreachable == unreachableProceed,
		GateTimeout: o.Timeout, NoteTimeout: o.Timeout, GateRetry: o.Retry, NoteRetry: o.Retry,
	}
	return f, nil
}

// maxTokenFile bounds --token-file.
const maxTokenFile = 4 << 10

// token returns the token: the --token-file, else HOOKPOINT_TOKEN.
func (o *fleetOptions) token() (string, error) {
	if o.TokenFile != "" {
		b, err := safefile.ReadFile(o.TokenFile, maxTokenFile)
		if err != nil {
			return "", usageErr("--token-file: %v", err)
		}
		t := strings.TrimSpace(string(b))
		if t == "" {
			return "", usageErr("--token-file %s is empty", o.TokenFile)
		}
		return t, nil
	}
	if t := strings.TrimSpace(os.Getenv("HOOKPOINT_TOKEN")); t != "" {
		return t, nil
	}
	return "", usageErr("the server needs a token: set HOOKPOINT_TOKEN or give --token-file FILE (make one on the server with: hookpoint token create --scope emit)")
}

// fire sends ev to the server. A refusal is exit status 2: the token or the event is
// wrong, and sending again would not help.
func (f *fleetEnv) fire(ctx context.Context, ev *hookpoint.Event) (*hookpoint.Outcome, error) {
	out, err := f.node.Fire(ctx, ev)
	if err == nil {
		return out, nil
	}
	server := f.node.Client.Server()
	var ae *fleet.APIError
	switch {
	case errors.As(err, &ae) && ae.Status == 401:
		err = fmt.Errorf("the server %s refused the token (%v): check HOOKPOINT_TOKEN or --token-file; no hook ran for %s", server, ae, ev.Type)
	case errors.As(err, &ae) && ae.Status == 403:
		err = fmt.Errorf("the server %s refused the token for events (%v): use a token of scope emit; no hook ran for %s", server, ae, ev.Type)
	case errors.As(err, &ae):
		err = fmt.Errorf("the server %s refused %s (%v)", server, ev.Type, ae)
	case errors.Is(err, fleet.ErrBadAnswer):
		err = fmt.Errorf("the server %s: %v; is it hookpoint serve? %s was not sent", server, err, ev.Type)
	case errors.Is(err, hookpoint.ErrInvalidEvent):
	default:
		err = fmt.Errorf("%s: %w", ev.Type, err)
	}
	return nil, &exitError{code: exitUsage, err: err}
}

// close sends the spool when the server answered, and closes the journal. The server
// delivers async hooks itself: nothing is left undelivered here.
func (f *fleetEnv) close(ctx context.Context, _ time.Duration) bool {
	rep, err := f.node.Flush(ctx)
	if err != nil {
		f.logger.Error("spool not sent", "spool", f.node.Spool.Path, "err", err.Error())
	}
	if rep.Sent > 0 || len(rep.Dropped) > 0 {
		f.logger.Info("spool sent", "spool", f.node.Spool.Path, "sent", rep.Sent, "dropped", len(rep.Dropped), "left", rep.Left)
	}
	f.node.Client.Close()
	if f.journal != nil {
		if err := f.journal.Close(); err != nil {
			f.logger.Error("journal write failed", "error", err)
		}
	}
	return true
}
