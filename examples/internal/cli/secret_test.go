package cli

import (
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestSecretFlag(t *testing.T) {
	file := filepath.Join(t.TempDir(), "token")
	require.NoError(t, os.WriteFile(file, []byte("from-file\n"), 0o600))
	value := func(args ...string) string {
		t.Helper()
		fs := flag.NewFlagSet("x", flag.ContinueOnError)
		s := RegisterSecretFlag(fs, "token", "the token", "read the token from this file")
		require.NoError(t, Parse(fs, args))
		v, err := s.Value()
		require.NoError(t, err)
		return v
	}
	require.Equal(t, "", value())
	require.Equal(t, "from-file", value("-token-file", file))
	require.Equal(t, "given", value("-token", "given", "-token-file", file), "the value wins over the file")
	t.Setenv("SQLSHADOW_TOKEN", "from-env")
	require.Equal(t, "from-env", value("-token-file", file))
	require.Equal(t, "given", value("-token", "given"), "the command line wins over the environment")

	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	s := RegisterSecretFlag(fs, "pw", "", "")
	require.NoError(t, Parse(fs, []string{"-pw-file", filepath.Join(t.TempDir(), "missing")}))
	_, err := s.Value()
	require.Error(t, err)
}

func TestOpenMySQLNeverEchoesTheDSN(t *testing.T) {
	_, err := OpenMySQL("store", "user:hunter2@tcp(db:3306/x?badparam")
	require.EqualError(t, err, "-store: not a valid DSN")
	db, err := OpenMySQL("store", "user:hunter2@tcp(db:3306)/x")
	require.NoError(t, err)
	require.NoError(t, db.Close())
}
