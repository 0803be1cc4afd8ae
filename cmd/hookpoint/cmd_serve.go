package main

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/base32"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/hookpoint/hookpoint/internal/config"
	"github.com/hookpoint/hookpoint/internal/ingest"
	"github.com/hookpoint/hookpoint/internal/netguard"
	"github.com/hookpoint/hookpoint/internal/safefile"
	"github.com/hookpoint/hookpoint/internal/secretbox"
	"github.com/hookpoint/hookpoint/internal/server"
	"github.com/hookpoint/hookpoint/internal/template"
)

type serveOptions struct {
	Listen          string
	DB              string
	TokenFile       string
	SecretKeyFile   string
	AllowOrigins    []string
	ShutdownTimeout time.Duration
	Workers         int
	Synchronous     string
	Node            string
	DryRun          bool
	NoMigrate       bool
	TLSCert         string
	TLSKey          string
}

func (o *serveOptions) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.Listen, "listen", "", "address to listen on (default: server.listen, else "+config.DefaultListen+")")
	fs.StringVar(&o.DB, "db", "", "database: sqlite://FILE or postgres://USER@HOST:5432/DATABASE (default: server.db, else "+config.DefaultDB+")")
	fs.BoolVar(&o.NoMigrate, "no-migrate", false, "apply no migration, and refuse a database that needs one (for operators who run hookpoint migrate themselves)")
	fs.StringVar(&o.TokenFile, "token-file", "", "file holding the admin token (HOOKPOINT_TOKEN wins; default: server.token_file, else hookpoint.token beside a SQLite database or in the working directory, generated on first start)")
	fs.StringVar(&o.SecretKeyFile, "secret-key-file", "", "key that encrypts the secrets set through the API (default: server.secret_key_file, else hookpoint.key beside a SQLite database or in the working directory, generated on first start)")
	fs.StringArrayVar(&o.AllowOrigins, "allow-origin", nil, "destination allowed although it is loopback, private or link-local: an origin (http://host:port) or a CIDR; repeat for more (added to server.allowed_origins)")
	fs.DurationVar(&o.ShutdownTimeout, "shutdown-timeout", 30*time.Second, "on SIGTERM, how long attempts in flight get to finish before they are given back for another attempt")
	fs.IntVar(&o.Workers, "workers", 100, "attempts made at once in all (each hook also has its max_in_flight)")
	fs.StringVar(&o.Synchronous, "sqlite-synchronous", "FULL", "SQLite's synchronous setting: FULL keeps every answered event through a power loss, NORMAL only through a crash of the process")
	fs.StringVar(&o.Node, "node", "", "name of this server in attempts (default: the host name)")
	fs.StringVar(&o.TLSCert, "tls-cert", "", "serve HTTPS with this certificate `FILE` (PEM, with its chain); with --tls-key")
	fs.StringVar(&o.TLSKey, "tls-key", "", "the private key `FILE` of --tls-cert (PEM)")
	fs.BoolVar(&o.DryRun, "dry-run", false, "check the config, open (and migrate) the database, read or make the token and key, say what would be served, and exit")
}

func newServeCommand(g *globalOptions) *cobra.Command {
	o := &serveOptions{}
	c := &cobra.Command{
		Use:   "serve",
		Short: "Run the server: an API for events from every node, durable delivery with retries",
		Long: `Serve runs hookpoint's server. It accepts events (POST /v1/events) from every node of a
fleet (hookpoint emit, run and the adapters with --server) and webhooks from Xen Orchestra,
VirtFusion and Zerobyte (POST /v1/ingest/SOURCE), runs the hooks of the config file and
those made through the API, and delivers async hooks durably: an event is stored with its
deliveries before it is answered, and every attempt is kept, with retries, a delivery log
and replay.

With no flags it keeps its database in hookpoint.db in the working directory, listens on
` + config.DefaultListen + `, and on first start generates an admin token (printed once, kept
in hookpoint.token beside the database, mode 0600) and the key that encrypts secrets set
through the API (hookpoint.key). HOOKPOINT_TOKEN or --token-file give the token instead.
The config file (--config, HOOKPOINT_CONFIG, ./hookpoint.yaml or ` + systemConfig + `) is
optional; its hooks are read-only through the API, and SIGHUP reloads it (a broken file
keeps the hooks in use and says why). Its server: section holds the same settings as the
flags; flags win.

docs/server.md describes the API, deployment and each ingest source.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !cmd.Flags().Changed("log-format") {
				g.LogFormat = "" // server.log_format, else text
			}
			return runServe(cmd.Context(), g, o, cmd.ErrOrStderr())
		},
	}
	o.AddFlags(c.Flags())
	g.AddConfigFlags(c.Flags())
	c.Flags().BoolVarP(&g.Verbose, "verbose", "v", false, "log every request refused, every hook state change and every reload (errors are always logged)")
	c.Flags().StringVar(&g.LogFormat, "log-format", "text", "log format on stderr: text or json (default: server.log_format, else text)")
	return c
}

// runServe runs the server until SIGTERM or SIGINT.
func runServe(ctx context.Context, g *globalOptions, o *serveOptions, stderr io.Writer) error {
	cfg, cfgFile, err := serveConfig(g)
	if err != nil {
		return err
	}
	sc := cfg.Server
	if sc == nil {
		sc = &config.Server{}
	}
	if g.LogFormat == "" {
		g.LogFormat = first(sc.LogFormat, "text")
	}
	log, err := g.logger()
	if err != nil {
		return err
	}
	listen := first(o.Listen, sc.Listen, config.DefaultListen)
	db, err := parseDB(first(o.DB, sc.DB, config.DefaultDB))
	if err != nil {
		return err
	}
	// The token and the key are kept beside a SQLite file; with PostgreSQL, in the
	// working directory (the service's state directory).
	dir := "."
	if db.driver == "sqlite" {
		dir = filepath.Dir(db.path)
	}

	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
	defer signal.Stop(sigs)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	st, err := db.open(ctx, openOptions{noMigrate: o.NoMigrate, synchronous: o.Synchronous, logger: log})
	if err != nil {
		return err
	}
	defer st.Close()
	if o.NoMigrate {
		if err := checkMigrated(ctx, st, db); err != nil {
			return err
		}
	}

	box, created, err := secretbox.LoadOrCreateKey(first(o.SecretKeyFile, sc.SecretKeyFile, filepath.Join(dir, "hookpoint.key")))
	if err != nil {
		return &exitError{code: 1, err: err}
	}
	if created {
		log.Info("generated the key that encrypts secrets set through the API", "key_id", box.KeyID())
	}
	admin, tokenSource, generated, err := adminToken(first(o.TokenFile, sc.TokenFile, ""), filepath.Join(dir, "hookpoint.token"))
	if err != nil {
		return &exitError{code: 1, err: err}
	}
	origins := append(append([]string{}, sc.AllowedOrigins...), o.AllowOrigins...)
	guard, err := netguard.New(netguard.Config{AllowedOrigins: origins})
	if err != nil {
		return usageErr("allowed origins: %v", err)
	}
	sources, err := ingestSources(sc)
	if err != nil {
		return usageErr("%v", err)
	}
	node := o.Node
	if node == "" {
		node, _ = os.Hostname()
	}
	srv, err := server.New(server.Options{
		Config: cfg, ConfigFile: cfgFile, Store: st, Box: box, AdminToken: admin, Guard: guard, Ingest: sources,
		Node: node, Logger: log, Queue: queueOptions(o), Environ: childEnviron(sc),
	})
	if err != nil {
		return &exitError{code: 1, err: err}
	}
	tcfg, err := serveTLS(o)
	if err != nil {
		return usageErr("%v", err)
	}
	if o.DryRun {
		fmt.Fprintf(stderr, "hookpoint serve --dry-run: would serve on %s (database %s, %d hook(s) from %s, admin token from %s)\n",
			listen, db, len(cfg.Hooks), orNone(cfgFile), tokenSource)
		return nil
	}
	if err := srv.Start(ctx); err != nil {
		return &exitError{code: 1, err: err}
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		_ = srv.Stop(context.Background())
		return &exitError{code: 1, err: fmt.Errorf("listen on %s: %w", listen, err)}
	}
	url := "http://" + ln.Addr().String()
	if tcfg != nil {
		ln, url = tls.NewListener(ln, tcfg), "https://"+ln.Addr().String()
	}
	fmt.Fprintf(stderr, "hookpoint serve: %s (database %s, %d hook(s) from %s)\n", url, db, len(cfg.Hooks), orNone(cfgFile))
	if generated {
		fmt.Fprintf(stderr, "admin token (shown once, kept in %s): %s\n", tokenSource, admin)
	} else {
		fmt.Fprintf(stderr, "admin token: from %s\n", tokenSource)
	}
	log.Info("serving", "url", url, "database", db.String(), "hooks", len(cfg.Hooks), "config", cfgFile)

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ctx, ln, o.ShutdownTimeout) }()
	for {
		select {
		case err := <-errc:
			return err
		case sig := <-sigs:
			if sig == syscall.SIGHUP {
				reload(ctx, g, srv, log)
				continue
			}
			log.Info("shutting down", "signal", sig.String(), "grace", o.ShutdownTimeout.String())
			cancel()
			err := <-errc
			if err != nil && !errors.Is(err, context.Canceled) {
				return err
			}
			return nil
		}
	}
}

func queueOptions(o *serveOptions) (q server.QueueOptions) {
	q.Workers = o.Workers
	return q
}

// serveConfig reads the config file if there is one; the server runs without one.
func serveConfig(g *globalOptions) (*config.Config, string, error) {
	path, err := g.configPath()
	if err != nil {
		if g.ConfigPath != "" {
			return nil, "", err
		}
		return &config.Config{}, "", nil
	}
	cfg, err := g.loadConfig()
	if err != nil {
		return nil, "", err
	}
	return cfg, path, nil
}

// reload reads the config file again; a broken file keeps the hooks in use.
func reload(ctx context.Context, g *globalOptions, srv *server.Server, log *slog.Logger) {
	cfg, path, err := serveConfig(g)
	if err != nil {
		log.Error("config not reloaded; the hooks in use stay", "err", err.Error())
		return
	}
	if err := srv.Reload(ctx, cfg); err != nil {
		log.Error("config not reloaded; the hooks in use stay", "err", err.Error())
		return
	}
	log.Info("config reloaded", "config", path, "hooks", len(cfg.Hooks))
}

// serveTLS reads --tls-cert and --tls-key; nil when neither is set.
func serveTLS(o *serveOptions) (*tls.Config, error) {
	if o.TLSCert == "" && o.TLSKey == "" {
		return nil, nil
	}
	if o.TLSCert == "" || o.TLSKey == "" {
		return nil, errors.New("--tls-cert and --tls-key go together")
	}
	certPEM, err := safefile.ReadFile(o.TLSCert, 1<<20)
	if err != nil {
		return nil, fmt.Errorf("--tls-cert: %w", err)
	}
	keyPEM, err := safefile.ReadFile(o.TLSKey, 1<<20)
	if err != nil {
		return nil, fmt.Errorf("--tls-key: %w", err)
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, fmt.Errorf("--tls-cert %s and --tls-key %s are not a certificate and its key", o.TLSCert, o.TLSKey)
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, nil
}

// childEnviron is the environment exec hooks inherit: the server's, without the admin
// token and the variables the ingest secrets are read from.
func childEnviron(sc *config.Server) []string {
	drop := map[string]bool{"HOOKPOINT_TOKEN": true}
	if sc.Compiled != nil {
		for _, t := range sc.Compiled.Ingest {
			for _, r := range t.Refs() {
				if r.Func == "env" {
					drop[r.Arg] = true
				}
			}
		}
	}
	var out []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if !drop[name] {
			out = append(out, kv)
		}
	}
	return out
}

// minTokenLen is the shortest admin token accepted: a short one can be guessed.
const minTokenLen = 16

// adminToken returns the admin token: HOOKPOINT_TOKEN, else the token file named, else
// the default file beside the database, generated (mode 0600) when missing.
func adminToken(named, fallback string) (tok, source string, generated bool, err error) {
	if t := strings.TrimSpace(os.Getenv("HOOKPOINT_TOKEN")); t != "" {
		if len(t) < minTokenLen {
			return "", "", false, fmt.Errorf("HOOKPOINT_TOKEN is %d characters long: an admin token needs at least %d", len(t), minTokenLen)
		}
		return t, "HOOKPOINT_TOKEN", false, nil
	}
	path := named
	if path == "" {
		path = fallback
	}
	b, err := safefile.ReadFile(path, 4096)
	if err == nil {
		if st, serr := os.Stat(path); serr == nil && st.Mode().Perm()&0o077 != 0 {
			return "", "", false, fmt.Errorf("token file %s can be read by others (mode %o): chmod 600 %s", path, st.Mode().Perm(), path)
		}
		t := strings.TrimSpace(string(b))
		if len(t) < minTokenLen {
			return "", "", false, fmt.Errorf("token file %s holds %d characters: an admin token needs at least %d", path, len(t), minTokenLen)
		}
		return t, path, false, nil
	}
	if named != "" || !errors.Is(err, fs.ErrNotExist) {
		return "", "", false, fmt.Errorf("token file: %w", err)
	}
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", "", false, err
	}
	t := "hpadmin_" + strings.ToLower(strings.TrimRight(base32.StdEncoding.EncodeToString(raw[:]), "="))
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return "", "", false, fmt.Errorf("token file: %w", err)
	}
	if _, err := f.WriteString(t + "\n"); err != nil {
		f.Close()
		return "", "", false, err
	}
	if err := f.Close(); err != nil {
		return "", "", false, err
	}
	return t, path, true, nil
}

// ingestSources renders the configured ingest secrets (env or file).
func ingestSources(sc *config.Server) (map[string]server.IngestSource, error) {
	out := map[string]server.IngestSource{}
	generic, _ := ingest.Lookup("generic")
	out["generic"] = server.IngestSource{Source: generic}
	if sc.Compiled == nil {
		return out, nil
	}
	for name, t := range sc.Compiled.Ingest {
		v, err := template.NewScope(nil).Render(t)
		if err != nil {
			return nil, fmt.Errorf("server.ingest.%s: %v", name, err)
		}
		src, ok := ingest.Lookup(name)
		if !ok {
			continue
		}
		c := ingest.Config{}
		switch name {
		case "xo":
			c.Secret = v
		case "virtfusion":
			c.Token = v
		case "zerobyte":
			c.Secret = v
			if sc.Ingest != nil && sc.Ingest.Zerobyte != nil {
				c.Header = sc.Ingest.Zerobyte.Header
			}
		}
		out[name] = server.IngestSource{Source: src, Config: c}
	}
	return out, nil
}

func first(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}

func orNone(s string) string {
	if s == "" {
		return "no config file"
	}
	return s
}
