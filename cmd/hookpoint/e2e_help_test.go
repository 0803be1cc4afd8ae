package main

// Help tells the truth: every flag a command's help lists is accepted by that command and
// described, every command's help has the same shape, the commands that list --journal
// and --async-deadline use them, and completion offers what each command takes.

import (
	"bufio"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
)

// helpFlag is one flag line of a help text.
type helpFlag struct {
	short, long string
	value       string // the value placeholder; "" for a boolean
	desc        string
}

var helpFlagRE = regexp.MustCompile(`^\s+(?:-([A-Za-z0-9]), )?--([a-z0-9][a-z0-9-]*)(?: (\S+))?(?:\s{2,}(.*))?$`)

// parseHelp returns the commands and flags a help text lists.
func parseHelp(t *testing.T, text string) (commands []string, flags []helpFlag) {
	t.Helper()
	section := ""
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		line := sc.Text()
		if line != "" && !strings.HasPrefix(line, " ") {
			section = line
			continue
		}
		switch section {
		case "Available Commands:":
			if f := strings.Fields(line); len(f) > 0 {
				commands = append(commands, f[0])
			}
		case "Flags:", "Global Flags:":
			if m := helpFlagRE.FindStringSubmatch(line); m != nil {
				flags = append(flags, helpFlag{short: m[1], long: m[2], value: m[3], desc: strings.TrimSpace(m[4])})
			} else if strings.TrimSpace(line) != "" && !strings.HasPrefix(line, "          ") {
				t.Errorf("flag line %q is not in the common form", line)
			}
		}
	}
	return commands, flags
}

// helpWorld is what the commands need to succeed: a config whose hooks answer, a
// journal, hooks files.
type helpWorld struct {
	rcv     *receiver
	cfg     string
	journal string
	hooks   string
	db      string // a server database with one token, for serve and token
	tokenID string
	tlsCert string
	tlsKey  string
	server  string // a hookpoint serve for --server, where a test starts one
	env     []string
}

func newHelpWorld(t *testing.T) *helpWorld {
	t.Helper()
	w := &helpWorld{rcv: newReceiver(t)}
	w.cfg = writeConfig(t, w.rcv, "hookpoint.yaml", `hooks:
  - id: ok
    on: ["*"]
    http: {url: "RECV/ok"}
`)
	dir := t.TempDir()
	w.journal = filepath.Join(dir, "journal.jsonl")
	if err := os.WriteFile(w.journal, []byte(`{"time":"2026-01-02T03:04:05Z","run_id":"run_x","event_id":"evt_1","event_type":"app.ok","hook_id":"ok","action":"http","mode":"sync","attempt":1,"outcome":"ok","status":200,"duration_ms":1.5}`+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	w.hooks = filepath.Join(dir, "hooks.json")
	replaceFile(t, w.hooks, hooksJSON(t, listenHook{id: "a", message: "a"}))
	w.env = childEnv(t, "HOOKPOINT_CONFIG="+w.cfg, "CV4PVE_AUTOSNAP_PHASE=snap-job-start", "CV4PVE_AUTOSNAP_LABEL=daily")
	w.db = "sqlite://" + filepath.Join(dir, "hookpoint.db")
	w.tlsCert, w.tlsKey, _ = testCert(t, t.TempDir())
	wantExit(t, runHP(t, append(slices.Clone(w.env), "HOOKPOINT_TOKEN=help-test-admin-token"), "serve", "--dry-run", "--db", w.db), 0) // makes the database
	p := runHP(t, w.env, "token", "create", "--scope", "read", "--db", w.db)
	wantExit(t, p, 0)
	if m := regexp.MustCompile(`# id (\S+),`).FindStringSubmatch(p.stdout); m != nil {
		w.tokenID = m[1]
	}
	return w
}

// tokenFile is a file holding an admin token.
func (w *helpWorld) tokenFile(t *testing.T) string {
	p := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(p, []byte("help-test-admin-token\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// sample is a value for each flag that takes one; a flag missing here fails the test, so
// that a new flag comes with a way to try it.
func (w *helpWorld) sample(t *testing.T) map[string]string {
	return map[string]string{
		"config": w.cfg, "journal": filepath.Join(t.TempDir(), "j.jsonl"), "async-deadline": "5s", "log-format": "json",
		"var": "k=v", "data": "{}", "status": "success", "run-id": "run_help", "subject": "s", "source": "src",
		"job": "j", "kind": "job", "output": "json", "timeout": "1m", "kill-after": "5s", "phase": "snap-job-start",
		"run": "run_x", "hook": "ok", "event": "app.*", "outcome": "ok", "since": "87600h", "until": "2100-01-01T00:00:00Z",
		// listen
		"hooks": w.hooks, "header": "X-A=b", "ip": "127.0.0.1", "port": "0", "urlprefix": "h", "cert": "c.pem",
		"key": "k.pem", "http-methods": "POST", "logfile": filepath.Join(t.TempDir(), "log"), "pidfile": filepath.Join(t.TempDir(), "pid"),
		"max-concurrency": "2", "max-queue": "2", "max-body": "1000", "shutdown-timeout": "1s", "max-queued-bytes": "1000",
		"x-request-id-limit": "8", "max-multipart-mem": "1000", "tls-min-version": "1.3", "cipher-suites": "x",
		"setuid": "1", "setgid": "1", "max-body-inflight": "100000000", "max-replay-ids": "10",
		// serve and token
		"listen": "127.0.0.1:0", "db": w.db, "allow-origin": "10.0.0.0/8", "node": "n1",
		"secret-key-file": filepath.Join(t.TempDir(), "k"), "sqlite-synchronous": "NORMAL",
		"token-file": w.tokenFile(t), "workers": "4", "scope": "emit", "description": "help test",
		"tls-cert": w.tlsCert, "tls-key": w.tlsKey,
		// fleet clients
		"server": w.server, "server-unreachable": "proceed", "server-timeout": "1m", "server-retry": "1s",
		"server-ca": w.tokenFile(t), "spool": filepath.Join(t.TempDir(), "spool.jsonl"),
	}
}

// invocation returns the arguments that run command successfully with extra flags.
func (w *helpWorld) invocation(command string, extra []string) ([]string, bool) {
	switch command {
	case "hookpoint":
		return extra, true
	case "check", "version", "completion bash", "completion zsh", "completion fish", "completion powershell", "help", "completion":
		return append(strings.Fields(command), extra...), true
	case "emit", "render":
		return append(append([]string{command}, extra...), "app.ok"), true
	case "run":
		return append(append([]string{"run", "--job", "j"}, extra...), "--", "true"), true
	case "vzdump":
		return append(append([]string{"vzdump"}, extra...), "job-end"), true
	case "autosnap":
		return append([]string{"autosnap"}, extra...), true
	case "jetbackup":
		return append(append([]string{"jetbackup"}, extra...), "download", "post", "a1", "log1"), true
	case "journal":
		return append(append([]string{"journal"}, extra...), w.journal), true
	case "serve":
		inv := append([]string{"serve", "--dry-run", "--db", w.db}, extra...)
		// The certificate and its key go together.
		if slices.Contains(extra, "--tls-cert") {
			inv = append(inv, "--tls-key", w.tlsKey)
		}
		if slices.Contains(extra, "--tls-key") {
			inv = append(inv, "--tls-cert", w.tlsCert)
		}
		return inv, true
	case "token", "token list":
		return append([]string{"token", "list", "--db", w.db}, extra...), true
	case "token create":
		return append([]string{"token", "create", "--scope", "read", "--db", w.db}, extra...), true
	case "migrate":
		return append([]string{"migrate", "--db", w.db}, extra...), true
	case "token revoke":
		return append(append([]string{"token", "revoke", "--db", w.db}, extra...), w.tokenID), true
	case "listen":
		// listen would serve until stopped: -version makes it exit once its flags are
		// parsed. What each flag does is for the listen tests.
		return append(append([]string{"listen"}, extra...), "-version"), true
	}
	return nil, false
}

// commands walks the help texts and returns every command path with its help.
func helpTexts(t *testing.T, env []string) map[string]string {
	t.Helper()
	texts := map[string]string{}
	var walk func(path []string)
	walk = func(path []string) {
		p := runHP(t, env, append(slices.Clone(path), "--help")...)
		wantExit(t, p, 0)
		name := strings.Join(path, " ")
		if name == "" {
			name = "hookpoint"
		}
		texts[name] = p.stdout
		if p.stderr != "" {
			t.Errorf("%s --help wrote to stderr: %q", name, p.stderr)
		}
		cmds, _ := parseHelp(t, p.stdout)
		for _, c := range cmds {
			walk(append(slices.Clone(path), c))
		}
	}
	walk(nil)
	return texts
}

func TestHelpListsOnlyAcceptedFlags(t *testing.T) {
	t.Parallel()
	w := newHelpWorld(t)
	// --server sends the events to a real server, with the token in the environment.
	w.server = startFleetServe(t, w.rcv, "hooks:\n  - id: ok\n    on: [\"*\"]\n    http: {url: \"RECV/ok\"}\n", "127.0.0.1:0").url
	w.env = append(w.env, "HOOKPOINT_TOKEN="+fleetAdmin, "HOOKPOINT_SPOOL="+filepath.Join(t.TempDir(), "spool.jsonl"))
	samples := w.sample(t)
	texts := helpTexts(t, w.env)
	for name, text := range texts {
		if !strings.Contains(text, "Usage:\n") || !strings.Contains(text, "\nFlags:\n") {
			t.Errorf("%s --help is not in the common form (Usage:, Flags:):\n%s", name, text)
		}
		_, flags := parseHelp(t, text)
		if len(flags) == 0 {
			t.Errorf("%s --help lists no flags:\n%s", name, text)
		}
		for _, f := range flags {
			if f.long == "help" {
				continue
			}
			if f.desc == "" {
				t.Errorf("%s --help: --%s has no description", name, f.long)
			}
			args := []string{"--" + f.long}
			if f.value != "" {
				v, ok := samples[f.long]
				if !ok {
					t.Errorf("%s: --%s takes a %s: add a sample value to the test", name, f.long, f.value)
					continue
				}
				args = append(args, v)
			}
			inv, ok := w.invocation(name, args)
			if !ok {
				t.Errorf("command %q: add an invocation that succeeds to the test", name)
				continue
			}
			if f.long == "follow" {
				hp := startHookpoint(t, w.env, inv...)
				eventually(t, "journal -f to print the record", func() bool { return strings.Contains(hp.stdout.String(), "app.ok") })
				if err := hp.cmd.Process.Signal(syscall.SIGINT); err != nil {
					t.Fatal(err)
				}
				wantExit(t, hp.wait(t), 0)
				continue
			}
			p := runHP(t, w.env, inv...)
			if strings.Contains(f.desc, "not supported") {
				// Listed so that existing command lines get a clear refusal.
				continue
			}
			if p.code != 0 {
				t.Errorf("%s lists --%s, but hookpoint %s exits %d:\n%s", name, f.long, strings.Join(inv, " "), p.code, p.stderr)
			}
		}
	}
}

// A command that lists --journal writes to it, one that lists --async-deadline waits for
// async hooks no longer than that.
func TestHelpJournalAndDeadlineAreUsed(t *testing.T) {
	t.Parallel()
	w := newHelpWorld(t)
	cfg := writeConfig(t, w.rcv, "hookpoint.yaml", `hooks:
  - id: ok
    on: ["*"]
    http: {url: "RECV/ok"}
  - id: stuck
    on: ["*"]
    mode: async
    http: {url: "RECV/stuck?hang=1"}
`)
	env := append(slices.Clone(w.env), "HOOKPOINT_CONFIG="+cfg)
	texts := helpTexts(t, env)
	for name, text := range texts {
		_, flags := parseHelp(t, text)
		for _, f := range flags {
			switch f.long {
			case "journal":
				path := filepath.Join(t.TempDir(), "j.jsonl")
				inv, ok := w.invocation(name, []string{"--journal", path})
				if !ok {
					t.Errorf("command %q: add an invocation to the test", name)
					continue
				}
				runHP(t, w.env, inv...) // without the stuck async hook
				if b, err := os.ReadFile(path); err != nil || !strings.Contains(string(b), `"hook_id":"ok"`) {
					t.Errorf("%s lists --journal, but hookpoint %s wrote no record to it (%v)", name, strings.Join(inv, " "), err)
				}
			case "async-deadline":
				inv, ok := w.invocation(name, []string{"--async-deadline", "100ms"})
				if !ok {
					t.Errorf("command %q: add an invocation to the test", name)
					continue
				}
				p := runHP(t, env, inv...)
				if !strings.Contains(p.stderr, "async hook not delivered") || !strings.Contains(p.stderr, "deadline") {
					t.Errorf("%s lists --async-deadline, but hookpoint %s did not stop waiting for the stuck async hook at it:\n%s", name, strings.Join(inv, " "), p.stderr)
				}
			}
		}
	}
}

// complete runs the shell completion of args (the last is the word being completed) and
// returns the candidates and the directive.
func complete(t *testing.T, env []string, args ...string) ([]string, string) {
	t.Helper()
	p := runHP(t, env, append([]string{"__complete"}, args...)...)
	wantExit(t, p, 0)
	var out []string
	directive := ""
	for _, l := range strings.Split(strings.TrimSpace(p.stdout), "\n") {
		if strings.HasPrefix(l, ":") {
			directive = l
			continue
		}
		c, _, _ := strings.Cut(l, "\t")
		out = append(out, c)
	}
	return out, directive
}

func wantCandidates(t *testing.T, what string, got []string, want, notWant []string) {
	t.Helper()
	for _, w := range want {
		if !slices.Contains(got, w) {
			t.Errorf("%s: completion %q lacks %q", what, got, w)
		}
	}
	for _, w := range notWant {
		if slices.Contains(got, w) {
			t.Errorf("%s: completion %q offers %q", what, got, w)
		}
	}
}

func TestCompletion(t *testing.T) {
	t.Parallel()
	w := newHelpWorld(t)
	cfg := writeConfig(t, w.rcv, "hookpoint.yaml", `hooks:
  - id: freeze
    on: ["backup.pre", "vzdump.backup-*"]
    http: {url: "RECV/ok"}
  - id: notify
    on: ["*.end"]
    http: {url: "RECV/ok"}
`)
	env := childEnv(t, "HOOKPOINT_CONFIG="+cfg)

	got, _ := complete(t, env, "listen", "-")
	wantCandidates(t, "listen -", got, []string{"--hooks", "--port", "--verbose"}, []string{"--config", "--journal", "--async-deadline", "-c"})
	_, directive := complete(t, env, "listen", "--hooks", "")
	if directive != ":0" {
		t.Errorf("listen --hooks: directive %s, want file names (:0)", directive)
	}
	got, _ = complete(t, env, "emit", "")
	wantCandidates(t, "emit TYPE", got, []string{"backup.pre", "vzdump.backup-start", "vzdump.backup-end", "vzdump.backup-abort"}, []string{"vzdump.job-init", "*.end", "vzdump.backup-*"})
	got, _ = complete(t, env, "render", "--config", cfg, "")
	wantCandidates(t, "render TYPE", got, []string{"backup.pre"}, nil)
	got, _ = complete(t, env, "vzdump", "")
	wantCandidates(t, "vzdump phase", got, []string{"job-init", "backup-start", "post-restart"}, nil)
	got, _ = complete(t, env, "vzdump", "backup-start", "")
	wantCandidates(t, "vzdump mode", got, []string{"snapshot", "suspend", "stop"}, nil)
	got, _ = complete(t, env, "autosnap", "--phase", "")
	wantCandidates(t, "autosnap --phase", got, []string{"snap-create-pre", "clean-job-end"}, nil)
	got, _ = complete(t, env, "jetbackup", "")
	wantCandidates(t, "jetbackup type", got, []string{"backup", "backup-account", "download"}, nil)
	got, _ = complete(t, env, "jetbackup", "clone", "")
	wantCandidates(t, "jetbackup position", got, []string{"pre", "post"}, nil)
	got, _ = complete(t, env, "journal", w.journal, "--hook", "")
	wantCandidates(t, "journal --hook", got, []string{"ok"}, nil)
	got, _ = complete(t, env, "run", "-")
	wantCandidates(t, "run -", got, []string{"--job", "--journal"}, []string{"--status", "--gate"})
	got, _ = complete(t, env, "check", "-")
	wantCandidates(t, "check -", got, []string{"--config"}, []string{"--journal", "--async-deadline"})
}

// Shared flags may come before the command name, as the integration wrappers write them;
// a command that does not take one refuses it there too.
func TestSharedFlagsBeforeTheCommand(t *testing.T) {
	t.Parallel()
	w := newHelpWorld(t)
	journal := filepath.Join(t.TempDir(), "j.jsonl")
	p := runHP(t, childEnv(t), "--config", w.cfg, "--journal", journal, "-v", "vzdump", "job-init")
	wantExit(t, p, 0)
	if b, err := os.ReadFile(journal); err != nil || !strings.Contains(string(b), "vzdump.job-init") {
		t.Errorf("the journal named before the command has no record (%v)", err)
	}
	if !strings.Contains(p.stderr, "msg=hook") {
		t.Errorf("-v before the command did not log the hook:\n%s", p.stderr)
	}
	wantExit(t, runHP(t, childEnv(t), "-v", "listen", "-version"), 0)
	p = runHP(t, childEnv(t), "--journal", journal, "check")
	if p.code != 2 || !strings.Contains(p.stderr, "unknown flag: --journal") || !strings.Contains(p.stderr, "check --help") {
		t.Errorf("check with --journal before it: exit %d, stderr %q; want it refused", p.code, p.stderr)
	}
}
