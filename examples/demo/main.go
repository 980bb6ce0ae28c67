// Command demo runs the whole sqlshadow loop on one machine with nothing
// installed beyond Go: an embedded primary and shadow, the shadow proxy in
// front of them, a workload, query logs on local disk, and the shadow report.
//
// Until the proxy and the report land, it says what is coming.
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stdout, `sqlshadow demo (placeholder)

The demo will start an embedded primary and shadow database, put the shadow
proxy in front of them, run a few thousand statements from several clients,
write query logs to a local directory and print the shadow report naming the
planted differences (one slower query shape, one failing statement, one wrong
answer). The packages it wires are being built: see README.md.`)
}
