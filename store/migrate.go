package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/pressly/goose/v3"
)

// migrate applies the embedded migrations, after refusing a database whose
// schema is newer than this build knows.
func migrate(ctx context.Context, db *sql.DB, d *dialect) error {
	p, err := goose.NewProvider(d.goose, db, d.migrations())
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	sources := p.ListSources()
	known := int64(0)
	for _, s := range sources {
		known = max(known, s.Version)
	}
	current, err := p.GetDBVersion(ctx)
	if err != nil && !errors.Is(err, goose.ErrNoCurrentVersion) {
		return fmt.Errorf("read schema version: %w", err)
	}
	if current > known {
		return fmt.Errorf("the database's schema is version %d, newer than this Gatehouse knows (%d): "+
			"it was written by a newer release; run that release or newer, the database was not changed", current, known)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("migrate the %s schema: %w", d.name, err)
	}
	return nil
}

// SchemaVersion returns the database's schema version.
func (db *DB) SchemaVersion(ctx context.Context) (int64, error) {
	p, err := goose.NewProvider(db.d.goose, db.write, db.d.migrations())
	if err != nil {
		return 0, err
	}
	return p.GetDBVersion(ctx)
}
