// Command replay replays a captured workload (StarRocks audit logs or
// audit table, MariaDB/MySQL slow or general logs, or the proxy's own query
// logs) against one or two clusters and records both sides in the query
// logs, so that shadow-report reads the replay as it reads the proxy's logs.
//
//	replay run -source starrocks-audit:/var/log/fe -primary fe-old:9030 -shadow fe-new:9030 \
//	    -user replay -bucket-url s3://logs?region=eu-west-1 -per-template 20
//	replay run -source slowlog:/var/lib/mysql/slow.log -primary db1:3306 -bucket-url file:///tmp/logs -speed 2
//	replay replica -source starrocks-audit:/var/log/fe -schema-from fe-old:9030 -key-file key -out replica/
//	replay load -replica replica/ -target test-db:3306
//
// Passwords come from the environment (SQLSHADOW_PASSWORD), every flag can be
// set from it too (SQLSHADOW_<FLAG>). Exit codes: 0 done, 1 done with
// differences between the targets, 2 error or usage, 3 interrupted before the
// end of the source (or nothing replayed).
package main

import (
	"fmt"
	"io"
	"os"

	"github.com/sqlshadow/sqlshadow/examples/internal/cli"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

// commands are the subcommands, each in a file of its own.
var commands = map[string]func(args []string, stdout, stderr io.Writer) int{
	"run":     runCmd,
	"replica": replicaCmd,
	"load":    loadCmd,
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || commands[args[0]] == nil {
		fmt.Fprintln(stderr, "usage: replay run|replica|load [flags]   (replay <command> -h for the flags)")
		return cli.ExitError
	}
	return commands[args[0]](args[1:], stdout, stderr)
}
