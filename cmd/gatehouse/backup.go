package main

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/gatehouse-iam/gatehouse"
	"github.com/gatehouse-iam/gatehouse/authz"
	"github.com/gatehouse-iam/gatehouse/service"
	"github.com/gatehouse-iam/gatehouse/store"
)

// defaultDatabase is the embedded default: a SQLite file in the working
// directory.
const defaultDatabase = "./gatehouse.db"

// databaseFlag binds --database, defaulting to $GATEHOUSE_DATABASE and then
// to the embedded SQLite file.
func databaseFlag(cmd *cobra.Command, dst *string) {
	def := os.Getenv("GATEHOUSE_DATABASE")
	if def == "" {
		def = defaultDatabase
	}
	cmd.Flags().StringVar(dst, "database", def, "SQLite file path or postgres:// URL (env GATEHOUSE_DATABASE)")
}

// openDirect opens the database for a command run on the host, with a
// service over it; the caller closes the database.
func openDirect(ctx context.Context, database string) (*store.DB, *service.Service, error) {
	db, err := store.Open(ctx, database, store.Options{})
	if err != nil {
		return nil, nil, err
	}
	return db, service.New(db, authz.New(db, nil), nil), nil
}

// orgByName reads an organization by name, saying which when it is not
// there.
func orgByName(ctx context.Context, db *store.DB, name string) (*gatehouse.Organization, error) {
	var o *gatehouse.Organization
	err := db.Read(ctx, func(tx gatehouse.Tx) (err error) { o, err = tx.GetOrgByName(ctx, name); return err })
	if err != nil {
		return nil, fmt.Errorf("organization %q: %w", name, err)
	}
	return o, nil
}

func newBackupCmd() *cobra.Command {
	var database string
	cmd := &cobra.Command{
		Use:   "backup PATH",
		Short: "Write a consistent copy of the SQLite database while Gatehouse runs",
		Long: `Write a consistent copy of the SQLite database to PATH (which must not exist),
without stopping Gatehouse. To restore: stop Gatehouse, delete the database file
and its -wal and -shm files, copy the backup in place of the database file, start
Gatehouse. For PostgreSQL, use pg_dump.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if _, err := os.Stat(args[0]); err == nil {
				return fmt.Errorf("backup: %s already exists; choose a new path", args[0])
			}
			if _, err := os.Stat(database); err != nil && !isPostgres(database) {
				return fmt.Errorf("backup: database %s: %w", database, err)
			}
			db, err := store.Open(cmd.Context(), database, store.Options{})
			if err != nil {
				return err
			}
			defer db.Close()
			if err := db.Backup(cmd.Context(), args[0]); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "backed up %s to %s\n", database, args[0])
			return nil
		},
	}
	databaseFlag(cmd, &database)
	return cmd
}

func isPostgres(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}
