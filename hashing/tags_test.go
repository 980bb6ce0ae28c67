package hashing

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestTags(t *testing.T) {
	cases := []struct {
		sql  string
		want map[string]string
	}{
		{"SELECT 1", nil},
		{"SELECT 1 /* plain comment */", nil},
		{"SELECT 1 /*route='screening'*/", map[string]string{"route": "screening"}},
		{"SELECT * FROM t /*controller='index',framework='spring',route='%2Fpolls%201000'*/",
			map[string]string{"controller": "index", "framework": "spring", "route": "/polls 1000"}},
		{"SELECT 1 /* action = 'a\\'b' , route='x' */", map[string]string{"action": "a'b", "route": "x"}},
		{"/*route='a'*/ SELECT 1 /*route='b',db%20driver='go'*/", map[string]string{"route": "b", "db driver": "go"}},
		{"SELECT 1 /*traceparent='00-5bd66ef5095369c7b0d1f8f4bd33716a-c532cb4098ac3dd2-01'*/",
			map[string]string{"traceparent": "00-5bd66ef5095369c7b0d1f8f4bd33716a-c532cb4098ac3dd2-01"}},
		{"SELECT 1 /*route='%zz'*/", map[string]string{"route": "%zz"}}, // undecodable: kept
		{"SELECT 1 /*route=x*/", nil},                                   // unquoted value: not a tag list
		{"SELECT 1 /*route='x' junk*/", nil},
		{"SELECT 1 /*route='x'", nil}, // unterminated comment
		{"SELECT '/*route=''x''*/'", nil},
		{"SELECT 1 -- route='x'", nil},
		{"SELECT /*+ route='x' */ 1", nil}, // a hint, not a comment
		{"SELECT 1 /*route='x',*/", map[string]string{"route": "x"}},
	}
	for _, c := range cases {
		require.Equal(t, c.want, Tags(c.sql), c.sql)
	}
}

func TestNonDeterministic(t *testing.T) {
	cases := []struct {
		sql, why string
	}{
		{"SELECT * FROM t WHERE id = 1", ""},
		{"SELECT * FROM t ORDER BY id LIMIT 10", ""},
		{"SELECT NOW()", "NOW()"},
		{"select sysdate()", "SYSDATE()"},
		{"SELECT * FROM t WHERE d > CURRENT_DATE", "CURRENT_DATE"},
		{"SELECT CURRENT_TIMESTAMP()", "CURRENT_TIMESTAMP()"},
		{"SELECT * FROM t ORDER BY RAND() LIMIT 1", "RAND()"},
		{"SELECT UUID()", "UUID()"},
		{"SELECT USER()", "USER()"},
		{"SELECT CONNECTION_ID()", "CONNECTION_ID()"},
		{"SELECT LAST_QUERY_ID()", "LAST_QUERY_ID()"},
		{"SELECT UNIX_TIMESTAMP()", "UNIX_TIMESTAMP()"},
		{"SELECT UNIX_TIMESTAMP('2024-01-01')", ""},
		{"SELECT @@hostname", "@@hostname"},
		{"SELECT @v", ""},
		{"SELECT * FROM t LIMIT 10", "LIMIT without ORDER BY"},
		{"SELECT * FROM (SELECT * FROM t ORDER BY a) x LIMIT 5", "LIMIT without ORDER BY"},
		{"SELECT * FROM t WHERE id IN (SELECT id FROM u ORDER BY id LIMIT 3) ORDER BY id", ""},
		{"SELECT a, ROW_NUMBER() OVER (ORDER BY a) FROM t LIMIT 5", "LIMIT without ORDER BY"},
		{"DELETE FROM t LIMIT 10", "LIMIT without ORDER BY"},
		{"SELECT GROUP_CONCAT(a) FROM t", "GROUP_CONCAT() without ORDER BY"},
		{"SELECT GROUP_CONCAT(a ORDER BY a) FROM t", ""},
		{"SHOW PROCESSLIST", "SHOW PROCESSLIST"},
		{"SHOW FULL PROCESSLIST", "SHOW PROCESSLIST"},
		{"SHOW TABLES", ""},
		{"SELECT 'NOW()' FROM t -- RAND()", ""},
		{"SELECT now FROM t", ""}, // a column
		{"SELECT 1; SELECT * FROM t LIMIT 1", "LIMIT without ORDER BY"},
	}
	for _, c := range cases {
		nd, why := NonDeterministic(c.sql)
		require.Equal(t, c.why, why, c.sql)
		require.Equal(t, c.why != "", nd, c.sql)
	}
}
