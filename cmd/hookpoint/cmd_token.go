package main

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/hookpoint/hookpoint/internal/config"
	"github.com/hookpoint/hookpoint/internal/server"
	"github.com/hookpoint/hookpoint/internal/token"
)

type tokenOptions struct {
	DB          string
	Scope       string
	Description string
}

func (o *tokenOptions) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.DB, "db", config.DefaultDB, "the server's database: sqlite://FILE or postgres://USER@HOST:5432/DATABASE")
}

// newTokenCommand manages API tokens from the shell, against the database (the server
// may be running: SQLite serialises the writes, PostgreSQL is shared anyway).
func newTokenCommand() *cobra.Command {
	o := &tokenOptions{}
	c := &cobra.Command{
		Use:   "token",
		Short: "Create, list and revoke the server's API tokens",
		Long: `Token manages the API tokens of hookpoint serve, in its database. A token has a scope:
admin does everything, emit only sends events and ingests (what every node of a fleet
holds), read only reads. A token is shown once, when it is made; only its hash is kept.`,
	}
	o.AddFlags(c.PersistentFlags())
	create := &cobra.Command{
		Use:   "create --scope admin|emit|read [--description TEXT]",
		Short: "Make a token and print it (the only time it is shown)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runTokenCreate(cmd.Context(), o, cmd.OutOrStdout())
		},
	}
	create.Flags().StringVar(&o.Scope, "scope", "", "admin, emit or read (required)")
	create.Flags().StringVar(&o.Description, "description", "", "what the token is for, shown in lists")
	list := &cobra.Command{
		Use:   "list",
		Short: "List the tokens: id, scope, description, when made, last used, revoked",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runTokenList(cmd.Context(), o, cmd.OutOrStdout())
		},
	}
	revoke := &cobra.Command{
		Use:   "revoke ID",
		Short: "Revoke a token by its id",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runTokenRevoke(cmd.Context(), o, args[0], cmd.OutOrStdout())
		},
	}
	c.AddCommand(create, list, revoke)
	return c
}

func (o *tokenOptions) open(ctx context.Context) (migratingStore, error) {
	db, err := parseDB(o.DB)
	if err != nil {
		return nil, err
	}
	return db.open(ctx, openOptions{shared: true, mustExist: true})
}

func runTokenCreate(ctx context.Context, o *tokenOptions, out io.Writer) error {
	scope, err := token.ParseScope(o.Scope)
	if err != nil {
		return usageErr("--scope %q: use admin, emit or read", o.Scope)
	}
	st, err := o.open(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	plain, t, err := server.NewToken(ctx, st, scope, o.Description, time.Now())
	if err != nil {
		return &exitError{code: 1, err: err}
	}
	fmt.Fprintf(out, "%s\n", plain)
	fmt.Fprintf(out, "# id %s, scope %s: this is the only time the token is shown\n", t.ID, t.Scope)
	return nil
}

func runTokenList(ctx context.Context, o *tokenOptions, out io.Writer) error {
	st, err := o.open(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	ts, err := st.ListTokens(ctx)
	if err != nil {
		return &exitError{code: 1, err: err}
	}
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSCOPE\tCREATED\tLAST USED\tREVOKED\tDESCRIPTION")
	for _, t := range ts {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", t.ID, t.Scope, t.CreatedAt.Local().Format(time.DateTime),
			timeOrDash(t.LastUsedAt), timeOrDash(t.RevokedAt), printable(t.Description))
	}
	return tw.Flush()
}

func runTokenRevoke(ctx context.Context, o *tokenOptions, id string, out io.Writer) error {
	st, err := o.open(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := st.RevokeToken(ctx, id, time.Now()); err != nil {
		return &exitError{code: 1, err: fmt.Errorf("token %s: %w", id, err)}
	}
	fmt.Fprintf(out, "token %s revoked\n", id)
	return nil
}

func timeOrDash(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return t.Local().Format(time.DateTime)
}
