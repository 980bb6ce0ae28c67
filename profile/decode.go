package profile

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// feDetail is one QueryDetail as the FE writes it. Longs absent from older
// builds keep -1 ("not reported"), as the FE's own defaults.
type feDetail struct {
	EventTime         int64    `json:"eventTime"`
	QueryID           string   `json:"queryId"`
	IsQuery           bool     `json:"isQuery"`
	RemoteIP          string   `json:"remoteIP"`
	ConnID            int64    `json:"connId"`
	StartTime         int64    `json:"startTime"`
	EndTime           int64    `json:"endTime"`
	Latency           int64    `json:"latency"`
	PendingTime       int64    `json:"pendingTime"`
	State             string   `json:"state"`
	Database          string   `json:"database"`
	SQL               string   `json:"sql"`
	User              string   `json:"user"`
	ErrorMessage      string   `json:"errorMessage"`
	ResourceGroupName string   `json:"resourceGroupName"`
	ScanRows          int64    `json:"scanRows"`
	ScanBytes         int64    `json:"scanBytes"`
	ReturnRows        int64    `json:"returnRows"`
	CPUCostNs         int64    `json:"cpuCostNs"`
	MemCostBytes      int64    `json:"memCostBytes"`
	SpillBytes        int64    `json:"spillBytes"`
	CacheMissRatio    *float64 `json:"cacheMissRatio"`
	Warehouse         string   `json:"warehouse"`
	Catalog           string   `json:"catalog"`
}

func newFEDetail() feDetail {
	return feDetail{EndTime: -1, Latency: -1, PendingTime: -1, ScanRows: -1, ScanBytes: -1, ReturnRows: -1,
		CPUCostNs: -1, MemCostBytes: -1, SpillBytes: -1}
}

// decodeQueryDetails decodes a query_detail response body: the bare JSON
// array of v1, or a {"code","message","result":[...]} (v2) or {"data":[...]}
// wrapper. Integers are decoded as int64, never through float64 (eventTime is
// above 2^53); unknown fields are ignored, missing statistics stay -1. A
// wrapper with a non-zero code fails with ErrBadResponse.
func decodeQueryDetails(body []byte) ([]feDetail, error) {
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return nil, fmt.Errorf("%w: empty body", ErrBadResponse)
	}
	switch body[0] {
	case '[':
	case '{':
		var w struct {
			Code    json.RawMessage `json:"code"`
			Message string          `json:"message"`
			Msg     string          `json:"msg"`
			Result  json.RawMessage `json:"result"`
			Data    json.RawMessage `json:"data"`
		}
		if err := json.Unmarshal(body, &w); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrBadResponse, err)
		}
		code := string(bytes.Trim(w.Code, `"`))
		if code != "" && code != "0" && code != "200" {
			msg := w.Message
			if msg == "" {
				msg = w.Msg
			}
			return nil, fmt.Errorf("%w: code %s: %s", ErrBadResponse, code, msg)
		}
		arr := w.Result
		if len(arr) == 0 || string(arr) == "null" {
			arr = w.Data
		}
		arr = bytes.TrimSpace(arr)
		if len(arr) == 0 || string(arr) == "null" {
			return nil, nil
		}
		if arr[0] != '[' {
			return nil, fmt.Errorf("%w: result is not an array", ErrBadResponse)
		}
		body = arr
	default:
		return nil, fmt.Errorf("%w: not JSON: %q", ErrBadResponse, snippet(body))
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if _, err := dec.Token(); err != nil { // '['
		return nil, fmt.Errorf("%w: %v", ErrBadResponse, err)
	}
	out := make([]feDetail, 0, bytes.Count(body, []byte(`"eventTime"`)))
	for dec.More() {
		d := newFEDetail()
		if err := dec.Decode(&d); err != nil {
			return nil, fmt.Errorf("%w: record %d: %v", ErrBadResponse, len(out), err)
		}
		out = append(out, d)
	}
	if _, err := dec.Token(); err != nil { // ']'
		return nil, fmt.Errorf("%w: %v", ErrBadResponse, err)
	}
	return out, nil
}
