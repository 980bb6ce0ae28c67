package cli

import (
	"database/sql"
	"errors"
	"flag"

	_ "github.com/go-sql-driver/mysql" // OpenMySQL's driver
)

// SecretFlag is a secret (a password, a token, a DSN holding a password)
// given as -name, which like every flag can come from SQLSHADOW_<NAME>, or
// read from the file -name-file names.
type SecretFlag struct {
	value, file *string
}

// RegisterSecretFlag declares -name (described by usage) and -name-file
// (described by fileUsage) on fs.
func RegisterSecretFlag(fs *flag.FlagSet, name, usage, fileUsage string) *SecretFlag {
	return &SecretFlag{value: fs.String(name, "", usage), file: fs.String(name+"-file", "", fileUsage)}
}

// Value returns the secret: -name (command line, else environment) if not
// empty, else the content of -name-file without its final line break, else
// "". It never logs the value.
func (s *SecretFlag) Value() (string, error) {
	if *s.value != "" {
		return *s.value, nil
	}
	return Secret("", *s.file)
}

// OpenMySQL opens a MySQL/MariaDB pool on dsn (a go-sql-driver/mysql DSN).
// Its error names flagName but never echoes the DSN, which may hold a
// password. The caller closes the pool.
func OpenMySQL(flagName, dsn string) (*sql.DB, error) {
	db, err := sql.Open("mysql", dsn)
	if err != nil {
		return nil, errors.New("-" + flagName + ": not a valid DSN")
	}
	return db, nil
}
