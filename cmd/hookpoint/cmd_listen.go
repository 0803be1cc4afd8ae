package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	listener "github.com/hookpoint/hookpoint/internal/receiver"
	"github.com/hookpoint/hookpoint/internal/safefile"
	"github.com/hookpoint/hookpoint/internal/version"
)

// listenOptions are webhook's flags (single or double dash, as Go's flag package reads
// them, so existing command lines and unit files work unchanged) and hookpoint's own.
type listenOptions struct {
	Hooks           multiFlag
	Headers         multiFlag
	IP              string
	Port            int
	URLPrefix       string
	Verbose         bool
	Debug           bool
	HotReload       bool
	Template        bool
	Secure          bool
	Cert, Key       string
	HTTPMethods     string
	RequestID       bool
	NoPanic         bool
	LogFile         string
	PIDFile         string
	ShowVersion     bool
	Timeout         time.Duration
	MaxConcurrency  int
	MaxQueue        int
	MaxBody         int64
	LogFormat       string
	ShutdownTimeout time.Duration
	MaxQueuedBytes  int64
	MaxBodyInFlight int64
	MaxReplayIDs    int
	RequestIDLimit  int
	MaxMultipartMem int64
	TLSMinVersion   string
	CipherSuites    string
	ListCiphers     bool
	SetUID, SetGID  int
	Validate        bool
}

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

func (o *listenOptions) AddFlags(fs *flag.FlagSet) {
	fs.Var(&o.Hooks, "hooks", "hooks `FILE`, JSON or YAML (repeatable; default: hooks.json in the working directory)")
	fs.Var(&o.Headers, "header", "response header `name=value` for every response (repeatable)")
	fs.StringVar(&o.IP, "ip", "0.0.0.0", "address to listen on")
	fs.IntVar(&o.Port, "port", 9000, "port to listen on")
	fs.StringVar(&o.URLPrefix, "urlprefix", "hooks", "URL prefix: hooks are served at /PREFIX/{id}")
	fs.BoolVar(&o.Verbose, "verbose", false, "log every request")
	fs.BoolVar(&o.Verbose, "v", false, "the same as -verbose")
	fs.BoolVar(&o.Debug, "debug", false, "log at debug level")
	fs.BoolVar(&o.HotReload, "hotreload", false, "reload the hooks files when they change (SIGHUP and SIGUSR1 always reload)")
	fs.BoolVar(&o.Template, "template", false, "parse the hooks files as Go templates first, with getenv")
	fs.BoolVar(&o.Secure, "secure", false, "serve HTTPS with -cert and -key")
	fs.StringVar(&o.Cert, "cert", "cert.pem", "TLS certificate file")
	fs.StringVar(&o.Key, "key", "key.pem", "TLS key file")
	fs.StringVar(&o.HTTPMethods, "http-methods", "", "comma-separated methods allowed for hooks that name none")
	fs.BoolVar(&o.RequestID, "x-request-id", false, "use the X-Request-Id header as the request id")
	fs.BoolVar(&o.NoPanic, "nopanic", false, "start even when the hooks cannot be loaded")
	fs.StringVar(&o.LogFile, "logfile", "", "write the log to this file instead of stderr")
	fs.StringVar(&o.PIDFile, "pidfile", "", "write the process id to this file")
	fs.BoolVar(&o.ShowVersion, "version", false, "print the version and exit")
	fs.BoolVar(&o.Validate, "validate", false, "load the hooks files, print each hook, its command and rule, and the warnings, then exit: 0 when they load, 2 when not")
	fs.BoolVar(&o.Validate, "check", false, "the same as -validate")
	fs.DurationVar(&o.Timeout, "timeout", listener.DefaultTimeout, "command timeout for hooks that set none; the process group is killed")
	fs.IntVar(&o.MaxConcurrency, "max-concurrency", listener.DefaultMaxConcurrency, "commands running at once per hook, for hooks that set none")
	fs.IntVar(&o.MaxQueue, "max-queue", listener.DefaultMaxQueue, "requests waiting per hook beyond that (0: none); more get 503")
	fs.Int64Var(&o.MaxBody, "max-body", listener.DefaultMaxBody, "request body limit in bytes; larger bodies get 413")
	fs.StringVar(&o.LogFormat, "log-format", "text", "log format: text or json")
	fs.DurationVar(&o.ShutdownTimeout, "shutdown-timeout", 30*time.Second, "on SIGTERM, how long running commands may finish before they are killed")
	fs.Int64Var(&o.MaxQueuedBytes, "max-queued-bytes", listener.DefaultMaxQueuedBytes, "request bodies held by queued async requests, all hooks together; more get 503")
	fs.Int64Var(&o.MaxBodyInFlight, "max-body-inflight", listener.DefaultMaxBodyInFlight, "request bodies being received or held by requests, all hooks together, in bytes; more get 503")
	fs.IntVar(&o.MaxReplayIDs, "max-replay-ids", listener.DefaultMaxReplayIDs, "standard-webhooks message ids remembered per hook to refuse replays; a hook with that many recent ids answers 503")
	// webhook's other flags, so that existing command lines keep working.
	fs.IntVar(&o.RequestIDLimit, "x-request-id-limit", 0, "truncate X-Request-Id to this many characters (0: no limit)")
	fs.Int64Var(&o.MaxMultipartMem, "max-multipart-mem", 1<<20, "accepted for compatibility; multipart bodies are bounded by -max-body")
	fs.StringVar(&o.TLSMinVersion, "tls-min-version", "1.2", "lowest TLS version with -secure: 1.0, 1.1, 1.2 or 1.3")
	fs.StringVar(&o.CipherSuites, "cipher-suites", "", "accepted for compatibility; Go's default cipher suites are used")
	fs.BoolVar(&o.ListCiphers, "list-cipher-suites", false, "list the TLS cipher suites and exit")
	fs.IntVar(&o.SetUID, "setuid", 0, "not supported: run hookpoint listen as the user it should run as")
	fs.IntVar(&o.SetGID, "setgid", 0, "not supported: run hookpoint listen as the group it should run as")
}

// listenFileFlags are the flags whose value is a file name, for completion.
var listenFileFlags = []string{"hooks", "cert", "key", "logfile", "pidfile"}

func newListenCommand(_ *globalOptions) *cobra.Command {
	c := &cobra.Command{
		Use:   "listen [-hooks FILE]... [flags]",
		Short: "Serve hooks files in adnanh/webhook's format, with timeouts and limits",
		Long: `A drop-in replacement for adnanh/webhook: the same hooks files (JSON or YAML), flags and
responses, at /hooks/{id}; plus a command timeout that kills the process group, a
concurrency limit and bounded queue per hook (503 when full), body limits (per request
and for all bodies in flight), a standard-webhooks rule type that refuses replays,
warnings for hooks file keys it does not understand, atomic hot reload and graceful
shutdown. -validate (or --check) loads the hooks files, prints what it found and exits.

Flags take one dash or two, as webhook's do. Without -hooks, hooks.json in the working
directory is served. With no hook loaded, listen does not start unless -verbose or
-nopanic is given. The number of hooks loaded, the files and the address are always
logged at start. SIGHUP and SIGUSR1 reload the hooks files; SIGTERM and SIGINT shut
down gracefully.`,
		// webhook's flags take one dash: the command parses them itself, with Go's flag
		// package. They are also given to cobra, for help and completion.
		DisableFlagParsing: true,
		ValidArgsFunction: func(_ *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
			if len(args) > 0 && !strings.HasPrefix(toComplete, "-") {
				prev := strings.TrimLeft(args[len(args)-1], "-")
				if slices.Contains(listenFileFlags, prev) {
					return nil, cobra.ShellCompDirectiveDefault
				}
			}
			return nil, cobra.ShellCompDirectiveNoFileComp
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return runListen(cmd.Context(), args, cmd.OutOrStdout(), cmd.ErrOrStderr(), cmd.Help)
		},
	}
	fs := flag.NewFlagSet("listen", flag.ContinueOnError)
	(&listenOptions{}).AddFlags(fs)
	fs.VisitAll(func(f *flag.Flag) {
		if f.Name == "v" {
			return // shown as the shorthand of --verbose
		}
		pf := pflag.PFlagFromGoFlag(f)
		if f.Name == "verbose" {
			pf.Shorthand = "v"
		}
		c.Flags().AddFlag(pf)
	})
	for _, name := range listenFileFlags {
		_ = c.RegisterFlagCompletionFunc(name, func(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
			return nil, cobra.ShellCompDirectiveDefault
		})
	}
	return c
}

func runListen(ctx context.Context, args []string, stdout, stderr io.Writer, help func() error) error {
	o := &listenOptions{}
	fs := flag.NewFlagSet("hookpoint listen", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	o.AddFlags(fs)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return help()
		}
		return usageErr("listen: %v (see hookpoint listen --help)", err)
	}
	if fs.NArg() > 0 {
		return usageErr("listen: unexpected argument %q", fs.Arg(0))
	}
	if o.ShowVersion {
		fmt.Fprintln(stdout, "hookpoint listen", version.Version)
		return nil
	}
	if o.ListCiphers {
		for _, c := range tls.CipherSuites() {
			fmt.Fprintln(stdout, c.Name)
		}
		return nil
	}
	if o.SetUID != 0 || o.SetGID != 0 {
		// Refused rather than ignored: silently keeping root would be worse.
		return usageErr("listen: -setuid and -setgid are not supported; start hookpoint listen as the user and group it should run as (systemd User= and Group=)")
	}
	tlsMin, ok := map[string]uint16{"1.0": tls.VersionTLS10, "1.1": tls.VersionTLS11, "1.2": tls.VersionTLS12, "1.3": tls.VersionTLS13}[o.TLSMinVersion]
	if !ok {
		return usageErr("listen: -tls-min-version %q: use 1.0, 1.1, 1.2 or 1.3", o.TLSMinVersion)
	}
	if o.MaxBody <= 0 || o.MaxBodyInFlight < o.MaxBody {
		return usageErr("listen: -max-body (%d) must be more than 0 and at most -max-body-inflight (%d)", o.MaxBody, o.MaxBodyInFlight)
	}
	if o.MaxReplayIDs <= 0 {
		return usageErr("listen: -max-replay-ids must be more than 0")
	}
	maxQueue := o.MaxQueue
	if maxQueue == 0 {
		maxQueue = -1 // -max-queue 0: no queue
	}
	log, startLog, closeLog, err := o.logger(stderr)
	if err != nil {
		return err
	}
	defer closeLog()
	if len(o.Hooks) == 0 {
		// As webhook: hooks.json in the working directory.
		o.Hooks = multiFlag{defaultHooksFile}
		if _, err := os.Stat(defaultHooksFile); errors.Is(err, os.ErrNotExist) && !o.NoPanic {
			wd, _ := os.Getwd()
			return usageErr("listen: no -hooks FILE given and no %s in the working directory (%s)", defaultHooksFile, wd)
		}
	}
	headers, err := parseHeaderFlags(o.Headers)
	if err != nil {
		return err
	}
	if o.Validate {
		return validateHooks(o, stdout)
	}
	load := func() ([]*listener.Hook, error) {
		hooks, warnings, err := listener.Load(o.Hooks, listener.LoadOptions{Template: o.Template})
		for _, w := range warnings {
			log.Warn("hooks file: "+w.Msg, "file", w.File, "line", w.Line, "hook", w.Hook)
		}
		return hooks, err
	}
	hooks, err := load()
	if err != nil {
		if !o.NoPanic {
			return &exitError{code: exitUsage, err: fmt.Errorf("listen: %w", err)}
		}
		log.Error("hooks not loaded; serving none until a reload succeeds", "error", err)
	} else if len(hooks) == 0 && !o.Verbose && !o.NoPanic {
		// As webhook, which starts without hooks only when asked to.
		return usageErr("listen: no hooks loaded from %s; not starting without hooks (-nopanic or -verbose start anyway)", strings.Join(o.Hooks, ", "))
	}
	var methods []string
	for _, m := range strings.Split(o.HTTPMethods, ",") {
		if m = strings.TrimSpace(m); m != "" {
			methods = append(methods, strings.ToUpper(m))
		}
	}
	srv := listener.New(hooks, listener.Options{
		URLPrefix: o.URLPrefix, HTTPMethods: methods, Headers: headers, RequestIDHeader: o.RequestID,
		MaxBody: o.MaxBody, Timeout: o.Timeout, MaxConcurrency: o.MaxConcurrency, MaxQueue: maxQueue,
		MaxQueuedBytes: o.MaxQueuedBytes, MaxBodyInFlight: o.MaxBodyInFlight, MaxReplayIDs: o.MaxReplayIDs,
		RequestIDLimit: o.RequestIDLimit, Logger: log,
	})
	if o.CipherSuites != "" {
		log.Warn("-cipher-suites is ignored: Go's default cipher suites are used")
	}
	if o.PIDFile != "" {
		if err := safefile.WriteFile(o.PIDFile, []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644); err != nil {
			return usageErr("listen: -pidfile: %v", err)
		}
		defer os.Remove(o.PIDFile)
	}

	tlsConfig := &tls.Config{MinVersion: tlsMin}
	if o.Secure {
		cert, err := loadKeyPair(o.Cert, o.Key)
		if err != nil {
			return &exitError{code: 1, err: fmt.Errorf("listen: %w", err)}
		}
		tlsConfig.Certificates = []tls.Certificate{cert}
	}
	addr := net.JoinHostPort(o.IP, strconv.Itoa(o.Port))
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return &exitError{code: 1, err: fmt.Errorf("listen: %w", err)}
	}
	hs := &http.Server{
		Handler:           srv,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       time.Minute,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    1 << 20,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		TLSConfig:         tlsConfig,
	}
	// Signals are caught from here on: the start line below tells whoever waits for it
	// that SIGTERM now shuts down gracefully.
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGUSR1)
	defer signal.Stop(sigs)
	// Always said, whatever the log level: where the hooks came from and where they are.
	startLog.Info("serving hooks", "addr", ln.Addr().String(), "prefix", o.URLPrefix, "hooks", srv.Hooks(),
		"from", strings.Join(o.Hooks, ","), "version", version.Version)
	if srv.Hooks() == 0 {
		log.Warn("serving no hooks: every request gets 404 until a reload loads some")
	}

	reload := func(why string) {
		hooks, err := load()
		if err != nil {
			log.Error("reload failed; keeping the hooks already loaded", "reason", why, "error", err)
			return
		}
		srv.Swap(hooks)
		log.Info("hooks reloaded", "reason", why, "hooks", len(hooks))
	}
	serveErr := make(chan error, 1)
	go func() {
		if o.Secure {
			serveErr <- hs.ServeTLS(ln, "", "") // the certificate is in TLSConfig
		} else {
			serveErr <- hs.Serve(ln)
		}
	}()
	var tick <-chan time.Time
	mtimes := modTimes(o.Hooks)
	if o.HotReload {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		tick = t.C
	}
	for {
		select {
		case err := <-serveErr:
			return &exitError{code: 1, err: fmt.Errorf("listen: %w", err)}
		case <-tick:
			if now := modTimes(o.Hooks); now != mtimes {
				mtimes = now
				reload("a hooks file changed")
			}
		case s := <-sigs:
			if s == syscall.SIGHUP || s == syscall.SIGUSR1 {
				reload("signal " + s.String())
				continue
			}
			log.Info("shutting down", "signal", s.String(), "grace", o.ShutdownTimeout)
			sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), o.ShutdownTimeout)
			_ = hs.Shutdown(sctx) // stop accepting, finish requests in flight
			srv.Wait(sctx)        // let async commands finish, then kill the rest
			cancel()
			return nil
		}
	}
}

// validateHooks is -validate: it loads the hooks files as listen would and prints what
// it found.
func validateHooks(o *listenOptions, stdout io.Writer) error {
	if len(o.Hooks) == 0 {
		return usageErr("listen -validate: name the hooks files with -hooks")
	}
	hooks, warnings, err := listener.Load(o.Hooks, listener.LoadOptions{Template: o.Template})
	for _, w := range warnings {
		fmt.Fprintf(stdout, "warning: %s\n", w)
	}
	if err != nil {
		return &exitError{code: exitUsage, err: fmt.Errorf("listen: %w", err)}
	}
	for _, h := range hooks {
		fmt.Fprintf(stdout, "hook %q\n  command: %s\n  rule: %s\n", h.ID, h.ExecuteCommand, h.RuleSummary())
	}
	fmt.Fprintf(stdout, "%d hook(s), %d warning(s)\n", len(hooks), len(warnings))
	return nil
}

// maxPEMFile bounds each of -cert and -key.
const maxPEMFile = 1 << 20

// loadKeyPair reads -cert and -key: regular files (a FIFO is not waited on) of at most
// maxPEMFile bytes each.
func loadKeyPair(certFile, keyFile string) (tls.Certificate, error) {
	certPEM, err := safefile.ReadFile(certFile, maxPEMFile)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("-cert: %w", err)
	}
	keyPEM, err := safefile.ReadFile(keyFile, maxPEMFile)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("-key: %w", err)
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("-cert %s and -key %s: %w", certFile, keyFile, err)
	}
	return cert, nil
}

// modTimes is a fingerprint of the hooks files' modification times and sizes.
func modTimes(paths []string) string {
	var b strings.Builder
	for _, p := range paths {
		if st, err := os.Stat(p); err == nil {
			fmt.Fprintf(&b, "%s:%d:%d;", p, st.ModTime().UnixNano(), st.Size())
		}
	}
	return b.String()
}

func parseHeaderFlags(flags []string) ([]listener.Header, error) {
	var out []listener.Header
	for _, f := range flags {
		name, value, ok := strings.Cut(f, "=")
		if !ok || strings.TrimSpace(name) == "" {
			return nil, usageErr("listen: -header %q: write name=value", f)
		}
		out = append(out, listener.Header{Name: strings.TrimSpace(name), Value: value})
	}
	return out, nil
}

// logger returns the log at the level the flags ask for, and one at Info level on the same
// output for what is always said at start.
func (o *listenOptions) logger(stderr io.Writer) (log, start *slog.Logger, closeFn func(), err error) {
	w, closeFn := stderr, func() {}
	if o.LogFile != "" {
		f, err := safefile.OpenAppend(o.LogFile, 0o640)
		if err != nil {
			return nil, nil, nil, usageErr("listen: -logfile: %v", err)
		}
		w, closeFn = f, func() { f.Close() }
	}
	level := slog.LevelWarn
	switch {
	case o.Debug:
		level = slog.LevelDebug
	case o.Verbose:
		level = slog.LevelInfo
	}
	var handler func(slog.Level) slog.Handler
	switch o.LogFormat {
	case "text":
		handler = func(l slog.Level) slog.Handler { return slog.NewTextHandler(w, &slog.HandlerOptions{Level: l}) }
	case "json":
		handler = func(l slog.Level) slog.Handler { return slog.NewJSONHandler(w, &slog.HandlerOptions{Level: l}) }
	default:
		closeFn()
		return nil, nil, nil, usageErr("listen: -log-format %q: use text or json", o.LogFormat)
	}
	// Every value cut to its bound, as in the other commands' logs.
	return boundedLogger(handler(level)), boundedLogger(handler(min(level, slog.LevelInfo))), closeFn, nil
}

// defaultHooksFile is read when no -hooks is given, as webhook does.
const defaultHooksFile = "hooks.json"
