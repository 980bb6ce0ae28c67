package replica

import (
	"context"
	"database/sql"
	"fmt"
	"regexp"
	"strings"

	"github.com/pingcap/tidb/pkg/parser"
	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/mysql"
)

// category is the family of a column type, which decides how values are made.
type category int

const (
	catOther category = iota
	catInt
	catDecimal
	catFloat
	catString
	catEnum
	catSet
	catDate
	catDatetime
	catTime
	catYear
	catBit
	catJSON
)

// column is one column of an obfuscated table.
type column struct {
	name      string
	cat       category
	unsigned  bool
	flen, dec int // length or precision, and scale (-1 when unspecified)
	elems     []string
	notNull   bool
	skip      bool // generated: never inserted
	tp        byte // mysql.TypeXxx
}

// table is an obfuscated table, the rows generated for it and its unique keys.
type table struct {
	db, name string
	cols     []*column
	colIdx   map[string]int // lower-case column name -> index
	uniques  [][]int        // primary key and unique keys, as column indexes
	rows     [][]string     // SQL literal per column ("" for generated columns)
	used     []map[string]bool
	counter  []int64 // per column: the next value of a unique sequence
}

func (t *table) key() string { return t.db + "." + t.name }

// captureDDL returns the CREATE TABLE statement of db.name from the source,
// without its AUTO_INCREMENT counter (which reveals a row count). It fails
// with errView for a view.
func captureDDL(ctx context.Context, src *sql.DB, db, name string) (string, error) {
	rows, err := src.QueryContext(ctx, "SHOW CREATE TABLE "+quoteIdent(db)+"."+quoteIdent(name))
	if err != nil {
		return "", err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return "", err
	}
	if len(cols) > 0 && strings.EqualFold(cols[0], "View") {
		return "", errView
	}
	if len(cols) != 2 || !rows.Next() {
		if err := rows.Err(); err != nil {
			return "", err
		}
		return "", fmt.Errorf("SHOW CREATE TABLE %s.%s: unexpected result", db, name)
	}
	var tn, ddl string
	if err := rows.Scan(&tn, &ddl); err != nil {
		return "", err
	}
	return autoIncrement.ReplaceAllString(ddl, ""), rows.Err()
}

var autoIncrement = regexp.MustCompile(`(?i)\s+AUTO_INCREMENT=\d+`)

// parseTable reads the structure of an (obfuscated) CREATE TABLE statement.
func parseTable(db, ddl string) (*table, error) {
	stmt, err := parser.New().ParseOneStmt(ddl, "", "")
	if err != nil {
		return nil, err
	}
	ct, ok := stmt.(*ast.CreateTableStmt)
	if !ok {
		return nil, fmt.Errorf("not a CREATE TABLE statement: %T", stmt)
	}
	t := &table{db: db, name: ct.Table.Name.O, colIdx: make(map[string]int)}
	for _, cd := range ct.Cols {
		c := &column{name: cd.Name.Name.O, tp: cd.Tp.GetType(), flen: cd.Tp.GetFlen(), dec: cd.Tp.GetDecimal(),
			elems: cd.Tp.GetElems(), unsigned: mysql.HasUnsignedFlag(cd.Tp.GetFlag())}
		c.cat = categoryOf(c.tp)
		t.colIdx[strings.ToLower(c.name)] = len(t.cols)
		for _, o := range cd.Options {
			switch o.Tp {
			case ast.ColumnOptionNotNull:
				c.notNull = true
			case ast.ColumnOptionPrimaryKey:
				c.notNull = true
				t.uniques = append([][]int{{len(t.cols)}}, t.uniques...)
			case ast.ColumnOptionUniqKey:
				t.uniques = append(t.uniques, []int{len(t.cols)})
			case ast.ColumnOptionGenerated:
				c.skip = true
			case ast.ColumnOptionCheck:
				// MariaDB spells JSON as LONGTEXT CHECK (json_valid(col)).
				if f, ok := o.Expr.(*ast.FuncCallExpr); ok && f.FnName.L == "json_valid" {
					c.cat = catJSON
				}
			}
		}
		t.cols = append(t.cols, c)
	}
	for _, cons := range ct.Constraints {
		switch cons.Tp {
		case ast.ConstraintPrimaryKey, ast.ConstraintUniq, ast.ConstraintUniqKey, ast.ConstraintUniqIndex:
			var idx []int
			for _, k := range cons.Keys {
				if k.Column == nil {
					idx = nil // an expression key: not checked
					break
				}
				i, ok := t.colIdx[k.Column.Name.L]
				if !ok {
					return nil, fmt.Errorf("key on unknown column %s", k.Column.Name.O)
				}
				idx = append(idx, i)
			}
			if idx == nil {
				continue
			}
			if cons.Tp == ast.ConstraintPrimaryKey {
				for _, i := range idx {
					t.cols[i].notNull = true
				}
				t.uniques = append([][]int{idx}, t.uniques...)
			} else {
				t.uniques = append(t.uniques, idx)
			}
		}
	}
	t.used = make([]map[string]bool, len(t.uniques))
	for i := range t.used {
		t.used[i] = make(map[string]bool)
	}
	t.counter = make([]int64, len(t.cols))
	return t, nil
}

func categoryOf(tp byte) category {
	switch tp {
	case mysql.TypeTiny, mysql.TypeShort, mysql.TypeInt24, mysql.TypeLong, mysql.TypeLonglong:
		return catInt
	case mysql.TypeNewDecimal:
		return catDecimal
	case mysql.TypeFloat, mysql.TypeDouble:
		return catFloat
	case mysql.TypeVarchar, mysql.TypeVarString, mysql.TypeString, mysql.TypeBlob, mysql.TypeTinyBlob,
		mysql.TypeMediumBlob, mysql.TypeLongBlob:
		return catString
	case mysql.TypeEnum:
		return catEnum
	case mysql.TypeSet:
		return catSet
	case mysql.TypeDate:
		return catDate
	case mysql.TypeDatetime, mysql.TypeTimestamp:
		return catDatetime
	case mysql.TypeDuration:
		return catTime
	case mysql.TypeYear:
		return catYear
	case mysql.TypeBit:
		return catBit
	case mysql.TypeJSON:
		return catJSON
	}
	return catOther
}

func quoteIdent(s string) string { return "`" + strings.ReplaceAll(s, "`", "``") + "`" }
