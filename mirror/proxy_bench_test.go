package mirror

import (
	"database/sql"
	"testing"

	"github.com/go-sql-driver/mysql"
)

// BenchmarkProxyPointSelect runs point selects through the proxy (query log
// on, to a Recorder) and directly, on one connection, text protocol
// (interpolated parameters) and prepared statements.
func BenchmarkProxyPointSelect(b *testing.B) {
	srv := rig.Server(b, 0)
	benchTable(b, srv)
	b.Cleanup(func() {
		if root, err := srv.Root(); err == nil {
			_, _ = root.Exec("DROP DATABASE IF EXISTS bench")
		}
	})
	pr := startProxyB(b, srv.Addr())
	for _, target := range []string{"direct", "proxy"} {
		for _, mode := range []string{"text", "prepared"} {
			b.Run(target+"/"+mode, func(b *testing.B) {
				cfg, _ := mysql.ParseDSN(srv.DSN("bench"))
				if target == "proxy" {
					cfg.Addr = pr.Addr
				}
				cfg.InterpolateParams = mode == "text"
				db, err := sql.Open("mysql", cfg.FormatDSN())
				if err != nil {
					b.Fatal(err)
				}
				defer db.Close()
				db.SetMaxOpenConns(1)
				var stmt *sql.Stmt
				if mode == "prepared" {
					stmt, err = db.Prepare("SELECT c FROM t WHERE id = ?")
					if err != nil {
						b.Fatal(err)
					}
					defer stmt.Close()
				}
				var c string
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					id := i%1000 + 1
					if stmt != nil {
						err = stmt.QueryRow(id).Scan(&c)
					} else {
						err = db.QueryRow("SELECT c FROM t WHERE id = ?", id).Scan(&c)
					}
					if err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
