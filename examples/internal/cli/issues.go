package cli

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"strings"

	"github.com/sqlshadow/sqlshadow/issues"
)

// StoreFlags are the flags naming the issues store, shared by
// alert-tracker (which writes it) and health-scorer (which counts its
// alerts): -store, -store-file, -dialect and -table-prefix.
type StoreFlags struct {
	dsn, file, dialect, prefix *string
	name                       string
}

// RegisterStoreFlags declares the store flags on fs; def is -store's
// default ("mem", or "" for none).
func RegisterStoreFlags(fs *flag.FlagSet, def string) *StoreFlags {
	return &StoreFlags{
		dsn:     fs.String("store", def, "issues store: mem, or a MySQL/MariaDB/StarRocks DSN user:pw@tcp(host:3306)/db (prefer SQLSHADOW_STORE)"),
		file:    fs.String("store-file", "", "read the issues store DSN from this file"),
		dialect: fs.String("dialect", "mysql", "issues store: mysql (MySQL, MariaDB: replicas may share the tables) or starrocks (exactly one writer)"),
		prefix:  fs.String("table-prefix", "", "prefix of the issues store's SQL table names"),
	}
}

// Dialect is the -dialect flag's value.
func (f *StoreFlags) Dialect() string { return *f.dialect }

// Prefix is the -table-prefix flag's value.
func (f *StoreFlags) Prefix() string { return *f.prefix }

// Open opens the store the flags name: nil if -store is "" (and no
// -store-file), an issues.MemoryStore for "mem", else an issues.SQLStore
// (its tables created if missing) on db, which the caller closes (db is nil
// otherwise). Errors never echo the DSN, which may hold a password.
func (f *StoreFlags) Open(ctx context.Context) (st issues.Store, db *sql.DB, err error) {
	dsn := *f.dsn
	if *f.file != "" {
		if dsn, err = Secret("", *f.file); err != nil {
			return nil, nil, err
		}
	}
	f.name = dsn
	if i := strings.LastIndex(dsn, "@"); i >= 0 {
		f.name = dsn[i+1:]
	}
	switch dsn {
	case "":
		return nil, nil, nil
	case "mem":
		return issues.NewMemoryStore(), nil, nil
	}
	d := issues.MySQL
	switch *f.dialect {
	case "mysql":
	case "starrocks":
		d = issues.StarRocks
	default:
		return nil, nil, fmt.Errorf("-dialect %q: want mysql or starrocks", *f.dialect)
	}
	if db, err = OpenMySQL("store", dsn); err != nil {
		return nil, nil, err
	}
	if st, err = issues.NewSQLStore(ctx, db, &issues.SQLStoreOptions{Dialect: d, TablePrefix: *f.prefix}); err != nil {
		db.Close()
		return nil, nil, err
	}
	return st, db, nil
}

// Name is the store Open opened, without credentials, for logs.
func (f *StoreFlags) Name() string { return f.name }
