package shadow

// The tests open buckets by URL.
import _ "github.com/sqlshadow/sqlshadow/sink/drivers"
