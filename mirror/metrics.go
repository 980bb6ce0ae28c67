package mirror

import (
	"errors"
	"strconv"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sqlshadow/sqlshadow/mirror/internal/wire"
)

type metrics struct {
	connsTotal   prometheus.Counter
	connsActive  prometheus.Gauge
	connErrors   *prometheus.CounterVec
	commands     *prometheus.CounterVec
	cmdByByte    [256]prometheus.Counter
	errorsByCode *prometheus.CounterVec
	errMu        sync.Mutex
	errByCode    map[uint16]prometheus.Counter
	bytes        *prometheus.CounterVec
	bytesUp      prometheus.Counter
	bytesDown    prometheus.Counter
	duration     prometheus.Histogram
	logDropped   prometheus.Counter
	logErrors    prometheus.Counter
	mirrorDrops  prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		connsTotal: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "sqlshadow_proxy_connections_total", Help: "Client connections accepted."}),
		connsActive: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "sqlshadow_proxy_connections_active", Help: "Client connections open."}),
		connErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sqlshadow_proxy_connection_errors_total",
			Help: "Client connections that failed, by stage (primary_dial, handshake, auth, relay)."}, []string{"stage"}),
		commands: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sqlshadow_proxy_commands_total", Help: "Client commands relayed, by command."}, []string{"command"}),
		errorsByCode: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sqlshadow_proxy_command_errors_total",
			Help: "Commands that failed on the primary, by error code (\"io\" for I/O errors)."}, []string{"code"}),
		errByCode: map[uint16]prometheus.Counter{},
		bytes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sqlshadow_proxy_bytes_total",
			Help: "Bytes relayed, by direction (to_primary, to_client)."}, []string{"direction"}),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "sqlshadow_proxy_command_duration_seconds",
			Help:    "Primary command duration, command written to last response packet read.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 4, 11)}),
		logDropped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "sqlshadow_proxy_log_dropped_total", Help: "Query-log records dropped (queue or sink full)."}),
		logErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "sqlshadow_proxy_log_errors_total", Help: "Query-log records the sink refused with an error."}),
		mirrorDrops: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "sqlshadow_proxy_mirror_dropped_total", Help: "Commands the Mirror refused (Submit returned false)."}),
	}
	m.bytesUp = m.bytes.WithLabelValues("to_primary")
	m.bytesDown = m.bytes.WithLabelValues("to_client")
	for i := range m.cmdByByte {
		name := wire.CommandName(byte(i))
		if len(name) > 14 && name[:14] == "COM_UNKNOWN_0x" {
			name = "other"
		}
		m.cmdByByte[i] = m.commands.WithLabelValues(name)
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.connsTotal, m.connsActive, m.connErrors, m.commands,
		m.errorsByCode, m.bytes, m.duration, m.logDropped, m.logErrors, m.mirrorDrops} {
		if err := reg.Register(c); err != nil {
			var are prometheus.AlreadyRegisteredError
			if errors.As(err, &are) {
				return nil, errors.New("mirror: proxy metrics already registered: use one Registerer per Proxy")
			}
			return nil, err
		}
	}
	return m, nil
}

func (m *metrics) commandError(code uint16, io bool) {
	if io {
		m.errorsByCode.WithLabelValues("io").Inc()
		return
	}
	m.errMu.Lock()
	c, ok := m.errByCode[code]
	if !ok {
		c = m.errorsByCode.WithLabelValues(strconv.Itoa(int(code)))
		m.errByCode[code] = c
	}
	m.errMu.Unlock()
	c.Inc()
}
