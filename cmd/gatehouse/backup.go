package main

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/gatehouse-iam/gatehouse"
	"github.com/gatehouse-iam/gatehouse/authz"
	"github.com/gatehouse-iam/gatehouse/service"
	"github.com/gatehouse-iam/gatehouse/state"
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
//
// The master key keys the audit chain that host commands append to: it is
// read from GATEHOUSE_MASTER_KEY or GATEHOUSE_MASTER_KEY_FILE, or, for
// SQLite, from the database's path plus ".key" when that file exists.
// Without one the store is opened unkeyed, and appending to a keyed chain
// fails rather than write an unkeyed link.
func openDirect(ctx context.Context, database string) (*store.DB, *service.Service, error) {
	return openDirectKey(ctx, database, "")
}

// openDirectKey is openDirect with the master key file given (when not "").
func openDirectKey(ctx context.Context, database, keyFile string) (*store.DB, *service.Service, error) {
	if err := needDatabase(database); err != nil {
		return nil, nil, err
	}
	master, err := directMasterKey(database, keyFile)
	if err != nil {
		return nil, nil, err
	}
	var keys derivedKeys
	if master != nil {
		if keys, err = deriveKeys(master); err != nil {
			return nil, nil, err
		}
	}
	db, err := store.Open(ctx, database, store.Options{AuditKey: keys.audit})
	if err != nil {
		return nil, nil, err
	}
	svc := service.New(db, authz.New(db, nil), nil)
	keys.apply(svc)
	if master != nil {
		if svc.Keys, err = state.NewKeyring(master); err != nil {
			db.Close()
			return nil, nil, err
		}
	}
	return db, svc, nil
}

// directOrgFlags are the flags of a host command on one organization:
// --database, --org and, where bound, --master-key-file.
type directOrgFlags struct {
	database, org, keyFile string
}

// bind binds --database and --org, and --master-key-file when keyFile.
func (d *directOrgFlags) bind(cmd *cobra.Command, keyFile bool) {
	databaseFlag(cmd, &d.database)
	cmd.Flags().StringVar(&d.org, "org", "", "organization")
	if keyFile {
		cmd.Flags().StringVar(&d.keyFile, "master-key-file", "", "the master key file (default: GATEHOUSE_MASTER_KEY(_FILE), or for SQLite the database path plus .key)")
	}
}

// needOrg says --org is required when it is not given.
func (d *directOrgFlags) needOrg() error {
	if d.org == "" {
		return fmt.Errorf("--org is required")
	}
	return nil
}

// withOrg wraps a host command body that needs the service and an
// organization: it checks --org, opens the database from the host with the
// master key (as openDirectKey), finds the organization, and closes the
// database once run returns.
func (d *directOrgFlags) withOrg(run func(cmd *cobra.Command, svc *service.Service, org *gatehouse.Organization, args []string) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		if err := d.needOrg(); err != nil {
			return err
		}
		db, svc, err := openDirectKey(cmd.Context(), d.database, d.keyFile)
		if err != nil {
			return err
		}
		defer db.Close()
		org, err := orgByName(cmd.Context(), db, d.org)
		if err != nil {
			return err
		}
		return run(cmd, svc, org, args)
	}
}

// directMasterKey finds the master key for a host command; nil when there
// is none to find.
func directMasterKey(database, keyFile string) ([]byte, error) {
	if keyFile == "" {
		if v := os.Getenv("GATEHOUSE_MASTER_KEY"); v != "" {
			return state.ParseMasterKey(v)
		}
		keyFile = os.Getenv("GATEHOUSE_MASTER_KEY_FILE")
	}
	if keyFile == "" && !isPostgres(database) {
		if _, err := os.Stat(database + ".key"); err == nil {
			keyFile = database + ".key"
		}
	}
	if keyFile == "" {
		return nil, nil
	}
	if _, err := os.Stat(keyFile); err != nil {
		return nil, fmt.Errorf("master key file: %w", err)
	}
	key, _, err := state.LoadMasterKey(keyFile)
	return key, err
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
	var database, keyFile string
	var withoutKey bool
	cmd := &cobra.Command{
		Use:   "backup PATH",
		Short: "Write a consistent copy of the SQLite database, and its master key beside it, while Gatehouse runs",
		Long: `Write a consistent copy of the SQLite database to PATH (which must not exist),
without stopping Gatehouse, and the master key to PATH.key (mode 0600). The key
seals every stack's and environment's secrets and keys the audit chain: a backup
without it restores a database whose secrets cannot be decrypted and whose chain
cannot be verified. Keep the two apart if you like, but keep both. --without-key
writes the database alone, for when the key is backed up another way.

To restore: stop Gatehouse (it leaves no -wal or -shm file when it stops
cleanly; delete any that a crash left), copy PATH in place of the database file
and PATH.key in place of its key file (the database path plus .key), start
Gatehouse. For PostgreSQL, use pg_dump, and keep the key file you give
--master-key-file.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			out := args[0]
			if _, err := os.Stat(out); err == nil {
				return fmt.Errorf("backup: %s already exists; choose a new path", out)
			}
			if err := needDatabase(database); err != nil {
				return fmt.Errorf("backup: %w", err)
			}
			var key []byte
			if !withoutKey {
				var err error
				if key, err = directMasterKey(database, keyFile); err != nil {
					return fmt.Errorf("backup: %w", err)
				}
				if key == nil {
					return fmt.Errorf("backup: no master key found for %s (its .key file, --master-key-file, GATEHOUSE_MASTER_KEY or GATEHOUSE_MASTER_KEY_FILE); "+
						"without it the backup's stack and environment secrets cannot be decrypted nor its audit chain verified: give the key, "+
						"or --without-key to back up the database alone", database)
				}
				if _, err := os.Stat(out + ".key"); err == nil {
					return fmt.Errorf("backup: %s.key already exists; choose a new path", out)
				}
			}
			db, err := store.Open(cmd.Context(), database, store.Options{})
			if err != nil {
				return err
			}
			defer db.Close()
			if err := db.Backup(cmd.Context(), out); err != nil {
				return err
			}
			if withoutKey {
				fmt.Fprintf(cmd.OutOrStdout(), "backed up %s to %s, without its master key: back the key up too, or the secrets in the backup are lost\n", database, out)
				return nil
			}
			if err := writeKeyFile(out+".key", key); err != nil {
				os.Remove(out)
				return fmt.Errorf("backup: the master key: %w", err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "backed up %s to %s and its master key to %s.key\n", database, out, out)
			return nil
		},
	}
	databaseFlag(cmd, &database)
	cmd.Flags().StringVar(&keyFile, "master-key-file", "", "the master key file (default: GATEHOUSE_MASTER_KEY(_FILE), or the database path plus .key)")
	cmd.Flags().BoolVar(&withoutKey, "without-key", false, "back up the database alone; its secrets and audit chain then need the key kept elsewhere")
	return cmd
}

// writeKeyFile writes a master key as its key file does (base64, mode
// 0600), never over an existing file.
func writeKeyFile(path string, key []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	_, err = f.WriteString(base64.StdEncoding.EncodeToString(key) + "\n")
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
	}
	return err
}

// sqliteFile is the file of a SQLite database name ("./gatehouse.db",
// "file:x.db?_pragma=..."), "" for PostgreSQL and in-memory databases.
func sqliteFile(dsn string) string {
	if isPostgres(dsn) {
		return ""
	}
	path := strings.TrimPrefix(dsn, "file:")
	if i := strings.IndexByte(path, '?'); i >= 0 {
		path = path[:i]
	}
	if path == "" || path == ":memory:" || strings.Contains(dsn, "mode=memory") {
		return ""
	}
	return path
}

// needDatabase refuses a SQLite database that does not exist: host
// commands work on the database a server made, and opening a missing one
// would create it empty.
func needDatabase(database string) error {
	file := sqliteFile(database)
	if file == "" {
		return nil
	}
	if _, err := os.Stat(file); errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("database %s does not exist (nothing was created): give the database gatehouse serve uses with --database or GATEHOUSE_DATABASE; `gatehouse serve` creates a new one", file)
	} else if err != nil {
		return fmt.Errorf("database %s: %w", file, err)
	}
	return nil
}

func isPostgres(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}
