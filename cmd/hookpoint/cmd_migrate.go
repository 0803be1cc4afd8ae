package main

import (
	"context"
	"fmt"
	"io"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/hookpoint/hookpoint/internal/config"
)

type migrateOptions struct {
	DB     string
	DryRun bool
}

func (o *migrateOptions) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.DB, "db", "", "database: sqlite://FILE or postgres://USER@HOST:5432/DATABASE (default: server.db, else "+config.DefaultDB+")")
	fs.BoolVar(&o.DryRun, "dry-run", false, "list the migrations that would be applied, and change nothing")
}

func newMigrateCommand(g *globalOptions) *cobra.Command {
	o := &migrateOptions{}
	c := &cobra.Command{
		Use:   "migrate [--db URL] [--dry-run]",
		Short: "Apply the database migrations of hookpoint and River, or list them",
		Long: `Migrate brings the server's database up to this hookpoint's schema: hookpoint's own
migrations, then River's (its durable queue), each in one transaction, and prints each
one applied. With --dry-run it prints what it would apply and changes nothing.

hookpoint serve migrates by itself when it starts; this is for operators who apply
migrations separately (a deploy step, a database user allowed to change the schema) and
start the servers with --no-migrate, which refuses a database that is behind. Several
servers or migrate commands may start at once against PostgreSQL: an advisory lock lets
one migrate and the others find nothing left to do. A SQLite file is migrated only when
no hookpoint serve holds it.

A database migrated by a newer hookpoint is refused: run that hookpoint, or restore a
backup made before the upgrade.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runMigrate(cmd.Context(), g, o, cmd.OutOrStdout())
		},
	}
	o.AddFlags(c.Flags())
	g.AddConfigFlags(c.Flags())
	return c
}

func runMigrate(ctx context.Context, g *globalOptions, o *migrateOptions, out io.Writer) error {
	url := o.DB
	if url == "" {
		// server.db of the config file, when there is one.
		cfg, _, err := serveConfig(g)
		if err != nil {
			return err
		}
		if cfg.Server != nil {
			url = cfg.Server.DB
		}
	}
	db, err := parseDB(first(url, config.DefaultDB))
	if err != nil {
		return err
	}
	// A dry run reads beside a running server; applying needs a SQLite file to itself
	// (a server running on it would be refused by Open: in use).
	st, err := db.open(ctx, openOptions{noMigrate: true, shared: o.DryRun, mustExist: o.DryRun && db.driver == "sqlite"})
	if err != nil {
		return err
	}
	defer st.Close()
	list, err := st.Migrate(ctx, o.DryRun)
	for _, m := range list {
		fmt.Fprintln(out, m)
	}
	if err != nil {
		return &exitError{code: 1, err: err}
	}
	switch {
	case len(list) == 0:
		fmt.Fprintf(out, "# database %s is up to date\n", db)
	case o.DryRun:
		fmt.Fprintf(out, "# %d migration(s) to apply to database %s (dry run: nothing changed)\n", len(list), db)
	default:
		fmt.Fprintf(out, "# %d migration(s) applied to database %s\n", len(list), db)
	}
	return nil
}
