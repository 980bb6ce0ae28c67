package certify

import (
	"fmt"
	"time"
)

// Recipe is a certification run: the servers, the proxy in front of them,
// a timeline of steps (workloads, operations, chaos events, network
// faults), and the assertions that judge it. It is built in Go or read from
// a YAML or JSON file (ParseRecipe, LoadRecipe); the file's keys are the
// yaml tags below. The zero values of optional fields mean the documented
// defaults.
type Recipe struct {
	// Name identifies the recipe in the report.
	Name string `yaml:"name"`
	// Description says what it certifies, for the report.
	Description string `yaml:"description"`
	// Primary and Shadow are the servers' host:port. The run puts the
	// project's proxy (mirror.Proxy with a mirror.Shadow) in front of them,
	// each behind a FaultProxy (the "primary" and "shadow" links). Shadow
	// may be empty: the proxy then only relays. Both may be empty for a
	// recipe that only times start-ups.
	Primary string `yaml:"primary"`
	Shadow  string `yaml:"shadow"`
	// User logs in to both servers (workload, operations, the shadow
	// sessions); its password is RunOptions.Password.
	User string `yaml:"user"`
	// Database is the database the built-in workload uses, created if
	// missing. Default "certify".
	Database string `yaml:"database"`
	// Proxy tunes the proxy the run starts.
	Proxy ProxySpec `yaml:"proxy"`
	// Targets are the servers chaos steps act on, by name. "primary" and
	// "shadow" are the servers above; readiness of a target named so is a
	// ping of that server.
	Targets map[string]TargetSpec `yaml:"targets"`
	// Steps is the timeline.
	Steps []Step `yaml:"steps"`
	// Assert bounds what the run may show.
	Assert Assertions `yaml:"assert"`
	// Soak, when set, samples a process during the whole run and tests
	// each series for growth.
	Soak *Soak `yaml:"soak"`
	// Startup, when set, times the start-up of server versions.
	Startup *Startup `yaml:"startup"`
}

// ProxySpec tunes the proxy a run starts.
type ProxySpec struct {
	// ShadowDeadline is the least per-command deadline on the shadow
	// (mirror.ShadowOptions.MinDeadline): a black-holed shadow costs at
	// most this per session before the session reconnects. Default: the
	// mirror's (30 s).
	ShadowDeadline time.Duration `yaml:"shadow_deadline"`
	// MirrorWrites mirrors statements that are not read-only. Default false.
	MirrorWrites bool `yaml:"mirror_writes"`
}

// TargetSpec is a target of chaos steps. In a file it is made of shell
// commands (a Process from NewCommand); in Go, Target may be set instead.
type TargetSpec struct {
	// Start and Stop are shell commands (sh -c) starting and stopping the
	// server; Kill kills it (default: Stop). A restart is Stop then Start.
	// A Start meant to outlive the run should start a daemon (end with &).
	Start string `yaml:"start"`
	Stop  string `yaml:"stop"`
	Kill  string `yaml:"kill"`
	// Addr is the host:port pinged for readiness. Default: the recipe's
	// Primary or Shadow for the targets named so.
	Addr string `yaml:"addr"`
	// Target, when set, is used instead of the commands.
	Target Target `yaml:"-"`
}

// Step is one entry of the timeline: exactly one of Workload, SQL, Chaos or
// Fault.
type Step struct {
	// Name labels the step in the report. Default: its kind and target.
	Name string `yaml:"name"`
	// At is when the step starts, from the start of the run. With Window,
	// it starts at a random time in [At, At+Window].
	At     time.Duration `yaml:"at"`
	Window time.Duration `yaml:"window"`

	Workload *Workload  `yaml:"workload"`
	SQL      *SQLStep   `yaml:"sql"`
	Chaos    *Chaos     `yaml:"chaos"`
	Fault    *FaultStep `yaml:"fault"`
}

// Workload drives clients through the proxy for a duration: the built-in
// mixed workload, or a captured workload replayed (Replay).
type Workload struct {
	// Duration is how long it runs. Default 30 s.
	Duration time.Duration `yaml:"duration"`
	// Clients is the number of concurrent client connections. Default 4.
	Clients int `yaml:"clients"`
	// Rate is the statements per second of each client of the mixed
	// workload. Default 50.
	Rate float64 `yaml:"rate"`
	// Replay, when set, replays a captured log instead of the mixed
	// workload.
	Replay *ReplaySpec `yaml:"replay"`
}

// ReplaySpec is a captured workload replayed through the proxy (package
// replay), repeated until the workload's duration ends.
type ReplaySpec struct {
	// Format is "slowlog", "generallog" or "auditlog".
	Format string `yaml:"format"`
	// Paths are the log files.
	Paths []string `yaml:"paths"`
	// Speed replays at the recorded timing divided by Speed; 0: as fast as
	// the clients go.
	Speed float64 `yaml:"speed"`
}

// SQLStep is an operation: statements run in order, on one connection.
type SQLStep struct {
	// On is where they run: "proxy" (through the proxy, the default),
	// "primary" or "shadow" (the server directly).
	On string `yaml:"on"`
	// Statements are run in order; the step fails at the first error.
	Statements []string `yaml:"statements"`
}

// Chaos is an action on a target.
type Chaos struct {
	// Action is "restart" (stop, start, wait until ready) or "kill" (kill,
	// start, wait until ready).
	Action string `yaml:"action"`
	// Target is a target's name, or "random" for one of the recipe's
	// targets chosen at random.
	Target string `yaml:"target"`
	// Down is how long the target stays down between stop (or kill) and
	// start. Default 0.
	Down time.Duration `yaml:"down"`
}

// FaultStep applies a network fault to a link for a duration.
type FaultStep struct {
	// Link is "primary" (between the proxy and the primary) or "shadow".
	Link string `yaml:"link"`
	// Fault is applied at the step's start and cleared after Duration.
	Fault Fault `yaml:"fault"`
	// Duration of the fault. Default 5 s.
	Duration time.Duration `yaml:"duration"`
}

// Assertions bound what a run may show. A negative bound turns a check off.
type Assertions struct {
	// ClientErrors is the most client errors allowed outside fault
	// windows. Default 0.
	ClientErrors *int `yaml:"client_errors"`
	// LostRecords is the most query-log records allowed lost or unpaired
	// outside fault windows: a client statement without its primary
	// record, a primary record without its shadow record or the reverse.
	// Default 0.
	LostRecords *int `yaml:"lost_records"`
	// Mismatches is the most shadow answers allowed to differ from the
	// primary's outside fault windows (the built-in workload's answers are
	// deterministic, so a difference means lost session state). Default 0.
	Mismatches *int `yaml:"mismatches"`
	// Recovery bounds each event's recovery: from the end of the event
	// (target ready again, fault cleared) to the last failure it caused on
	// its side. Default 30 s.
	Recovery time.Duration `yaml:"recovery"`
}

// Soak samples a process's memory, goroutines (or threads), open files
// and connections during the run, and tests each series for growth with a
// regression slope and its confidence interval.
type Soak struct {
	// Duration is the least length of the run: it ends when its steps have
	// ended and Duration has passed. Default 0: when the steps end.
	Duration time.Duration `yaml:"duration"`
	// Interval between samples. Default 1 s.
	Interval time.Duration `yaml:"interval"`
	// Warmup is left out of the trend test at the start. Default a fifth
	// of the run.
	Warmup time.Duration `yaml:"warmup"`
	// What is sampled: MetricsURL (a Prometheus /metrics page: process_
	// resident_memory_bytes, go_goroutines, process_open_fds,
	// sqlshadow_proxy_connections_active), PID (/proc/PID: resident
	// memory, threads, open files, sockets), or Command (started for the
	// run and sampled through /proc, killed at its end). Default: the
	// proxy the run starts, through its own /metrics; the proxy runs in
	// the program that calls Run, so the series are that program's.
	MetricsURL string `yaml:"metrics_url"`
	PID        int    `yaml:"pid"`
	Command    string `yaml:"command"`
	// MaxGrowth bounds each series' growth over the run, by metric name:
	// "memory" (bytes, default 64 MiB), "goroutines" and "threads" (default
	// 50), "open_files" (default 20), "connections" (default 10). A series
	// fails when its growth is significant (the slope's 95% interval above
	// zero) and its estimate exceeds the bound; it passes when the
	// interval's upper end stays within the bound; otherwise it is
	// inconclusive.
	MaxGrowth map[string]float64 `yaml:"max_growth"`
}

// Startup times the start-up of server versions and compares each with
// the first.
type Startup struct {
	// Versions are started Runs times each, alternately; the first is the
	// baseline.
	Versions []StartupVersion `yaml:"versions"`
	// Runs per version. Default 5.
	Runs int `yaml:"runs"`
	// MinEffect is the slow-down (as a fraction of the baseline's median)
	// below which a significant difference is not a finding. Default 0.2.
	MinEffect float64 `yaml:"min_effect"`
	// Alpha is the significance level of the Mann-Whitney U test.
	// Default 0.05.
	Alpha float64 `yaml:"alpha"`
	// Timeout bounds one start until ready. Default 120 s.
	Timeout time.Duration `yaml:"timeout"`
}

// StartupVersion is one server version to time.
type StartupVersion struct {
	// Name labels the version in the report.
	Name string `yaml:"name"`
	// Start and Stop are shell commands; Addr is pinged for readiness.
	Start string `yaml:"start"`
	Stop  string `yaml:"stop"`
	Addr  string `yaml:"addr"`
	// Target, when set, is used instead of the commands.
	Target Target `yaml:"-"`
}

// Validate checks a recipe built in Go; it returns a *RecipeError naming the
// field (ParseRecipe checks files the same way, with lines).
func (r *Recipe) Validate() error { return r.validate() }

func (r *Recipe) validate() error {
	bad := func(field, format string, args ...any) error {
		return &RecipeError{Field: field, Msg: fmt.Sprintf(format, args...)}
	}
	for name, t := range r.Targets {
		if t.Target == nil && t.Start == "" {
			return bad("targets."+name+".start", "a target needs a start command")
		}
		if t.Target == nil && t.Addr == "" && r.serverAddr(name) == "" {
			return bad("targets."+name+".addr", "the address to ping for readiness is missing")
		}
	}
	for i, s := range r.Steps {
		f := fmt.Sprintf("steps[%d]", i)
		kinds := 0
		for _, set := range []bool{s.Workload != nil, s.SQL != nil, s.Chaos != nil, s.Fault != nil} {
			if set {
				kinds++
			}
		}
		if kinds != 1 {
			return bad(f, "a step needs exactly one of workload, sql, chaos or fault (it has %d)", kinds)
		}
		if s.At < 0 || s.Window < 0 {
			return bad(f+".at", "negative time")
		}
		switch {
		case s.Workload != nil:
			if r.Primary == "" {
				return bad("primary", "a workload needs the primary's address")
			}
			if s.Workload.Clients < 0 || s.Workload.Rate < 0 || s.Workload.Duration < 0 {
				return bad(f+".workload", "negative clients, rate or duration")
			}
			if rp := s.Workload.Replay; rp != nil {
				switch rp.Format {
				case "slowlog", "generallog", "auditlog":
				default:
					return bad(f+".workload.replay.format", "%q is not slowlog, generallog or auditlog", rp.Format)
				}
				if len(rp.Paths) == 0 {
					return bad(f+".workload.replay.paths", "no log file")
				}
			}
		case s.SQL != nil:
			switch s.SQL.On {
			case "", "proxy", "primary", "shadow":
			default:
				return bad(f+".sql.on", "%q is not proxy, primary or shadow", s.SQL.On)
			}
			if len(s.SQL.Statements) == 0 {
				return bad(f+".sql.statements", "no statement")
			}
			on := s.SQL.On
			if on == "" || on == "proxy" {
				on = "primary"
			}
			if r.serverAddr(on) == "" {
				return bad(f+".sql.on", "the recipe has no %s server", on)
			}
		case s.Chaos != nil:
			switch s.Chaos.Action {
			case "restart", "kill":
			default:
				return bad(f+".chaos.action", "%q is not restart or kill", s.Chaos.Action)
			}
			if s.Chaos.Target == "random" {
				if len(r.Targets) == 0 {
					return bad(f+".chaos.target", "random: the recipe has no targets")
				}
			} else if _, ok := r.Targets[s.Chaos.Target]; !ok {
				return bad(f+".chaos.target", "%q is not one of the recipe's targets", s.Chaos.Target)
			}
		case s.Fault != nil:
			if s.Fault.Link != "primary" && s.Fault.Link != "shadow" {
				return bad(f+".fault.link", "%q is not primary or shadow", s.Fault.Link)
			}
			if r.serverAddr(s.Fault.Link) == "" {
				return bad(f+".fault.link", "the recipe has no %s server", s.Fault.Link)
			}
			switch s.Fault.Fault.Mode {
			case ModeNone, ModeReset, ModeBlackHole, ModeDown:
			default:
				return bad(f+".fault.fault.mode", "%q is not reset, blackhole or down", s.Fault.Fault.Mode)
			}
			if s.Fault.Duration < 0 {
				return bad(f+".fault.duration", "negative duration")
			}
		}
	}
	if s := r.Soak; s != nil {
		sources := 0
		for _, set := range []bool{s.MetricsURL != "", s.PID != 0, s.Command != ""} {
			if set {
				sources++
			}
		}
		if sources > 1 {
			return bad("soak", "set at most one of metrics_url, pid and command")
		}
		if sources == 0 && r.Primary == "" {
			return bad("soak", "nothing to sample: no metrics_url, pid or command, and no proxy (no primary)")
		}
		for k := range s.MaxGrowth {
			if _, ok := defaultGrowth[k]; !ok {
				return bad("soak.max_growth."+k, "unknown metric (known: memory, goroutines, threads, open_files, connections)")
			}
		}
	}
	if s := r.Startup; s != nil {
		if len(s.Versions) < 2 {
			return bad("startup.versions", "at least two versions to compare")
		}
		for i, v := range s.Versions {
			if v.Target == nil && (v.Start == "" || v.Addr == "") {
				return bad(fmt.Sprintf("startup.versions[%d]", i), "a version needs start and addr")
			}
		}
	}
	return nil
}

// serverAddr returns the address of the server named "primary" or "shadow".
func (r *Recipe) serverAddr(name string) string {
	switch name {
	case "primary":
		return r.Primary
	case "shadow":
		return r.Shadow
	}
	return ""
}

// defaultGrowth are the default Soak.MaxGrowth bounds.
var defaultGrowth = map[string]float64{
	"memory":      64 << 20,
	"goroutines":  50,
	"threads":     50,
	"open_files":  20,
	"connections": 10,
}
