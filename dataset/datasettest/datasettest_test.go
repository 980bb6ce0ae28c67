package datasettest_test

import (
	"reflect"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sqlshadow/sqlshadow/dataset/datasettest"
)

func TestFullQueryLogSetsEveryField(t *testing.T) {
	v := reflect.ValueOf(datasettest.FullQueryLog(time.Date(2026, 1, 2, 3, 4, 5, 123456000, time.UTC)))
	for i := range v.NumField() {
		require.False(t, v.Field(i).IsZero(), "FullQueryLog leaves %s unset", v.Type().Field(i).Name)
	}
}
