package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/hookpoint/hookpoint/internal/config"
	"github.com/hookpoint/hookpoint/internal/ingest"
	"github.com/hookpoint/hookpoint/internal/netguard"
	"github.com/hookpoint/hookpoint/internal/secretbox"
	"github.com/hookpoint/hookpoint/internal/server"
	"github.com/hookpoint/hookpoint/internal/store/sqlite"
)

// childOptions are what both children take: the database and River's settings.
type childOptions struct {
	db            string
	sync          string
	workers       int
	fetchCooldown time.Duration
	fetchPoll     time.Duration
	cpuProfile    string
	drainProfile  bool
}

func (o *childOptions) addFlags(fs *flag.FlagSet) {
	fs.StringVar(&o.db, "db", "", "SQLite file")
	fs.StringVar(&o.sync, "sync", "FULL", "SQLite synchronous")
	fs.IntVar(&o.workers, "workers", 100, "River workers")
	fs.DurationVar(&o.fetchCooldown, "fetch-cooldown", 0, "River FetchCooldown (0: internal/queue's default)")
	fs.DurationVar(&o.fetchPoll, "fetch-poll", 0, "River FetchPollInterval (0: internal/queue's default)")
	fs.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile of the child's life to this file")
	fs.BoolVar(&o.drainProfile, "drain-profile", false, "profile only between SIGUSR1 and SIGUSR2 (the drain)")
}

func (o *childOptions) args() []string {
	return []string{"-db", o.db, "-sync", o.sync, "-workers", fmt.Sprint(o.workers),
		"-fetch-cooldown", o.fetchCooldown.String(), "-fetch-poll", o.fetchPoll.String(), "-cpuprofile", o.cpuProfile, fmt.Sprintf("-drain-profile=%v", o.drainProfile)}
}

// serverChild runs hookpoint's server as `hookpoint serve` wires it (internal/server on
// the SQLite store, the destination guard with the receiver allowed, River's settings
// from the flags) and prints its URL.
func serverChild(args []string) {
	fs := flag.NewFlagSet("server", flag.ExitOnError)
	var o childOptions
	o.addFlags(fs)
	cfgFile := fs.String("config", "", "config file")
	allow := fs.String("allow", "", "allowed origins, comma-separated")
	_ = fs.Parse(args)
	stop := startProfile(o.cpuProfile, o.drainProfile)
	ctx := context.Background()

	cfg, err := config.Load(*cfgFile)
	if err != nil {
		log.Fatal(err)
	}
	st, err := sqlite.Open(ctx, o.db, sqlite.Options{Synchronous: o.sync})
	if err != nil {
		log.Fatal(err)
	}
	box, _, err := secretbox.LoadOrCreateKey(filepath.Join(filepath.Dir(o.db), "hookpoint.key"))
	if err != nil {
		log.Fatal(err)
	}
	guard, err := netguard.New(netguard.Config{AllowedOrigins: strings.Split(*allow, ",")})
	if err != nil {
		log.Fatal(err)
	}
	generic, _ := ingest.Lookup("generic")
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	srv, err := server.New(server.Options{
		Config: cfg, ConfigFile: *cfgFile, Store: st, Box: box, AdminToken: benchToken, Guard: guard,
		Ingest: map[string]server.IngestSource{"generic": {Source: generic}}, Node: "bench", Logger: logger,
		Queue: server.QueueOptions{Workers: o.workers, FetchCooldown: o.fetchCooldown, FetchPollInterval: o.fetchPoll},
	})
	if err != nil {
		log.Fatal(err)
	}
	if err := srv.Start(ctx); err != nil {
		log.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	go func() { _ = srv.HTTPServer().Serve(ln) }()
	fmt.Printf("READY http://%s\n", ln.Addr())
	waitForStop()
	stop()
	if o.cpuProfile != "" {
		writeHeapProfile(strings.TrimSuffix(o.cpuProfile, ".pprof") + ".heap.pprof")
	}
	os.Exit(0)
}
