package dataset

// Names of the datasets: the first path element under a bucket's root.
const (
	// QueryLogs holds QueryLog records.
	QueryLogs = "query-logs"
	// Profiles holds Profile records.
	Profiles = "profiles"
	// HealthScores holds HealthScore records.
	HealthScores = "health-scores"
	// SentinelTasks holds SentinelTask records.
	SentinelTasks = "triggers"
	// Issues holds Issue records.
	Issues = "issues"
	// Findings holds Finding records.
	Findings = "findings"
)

// Names lists every dataset, in the order of docs/datasets.md.
func Names() []string {
	return []string{QueryLogs, Profiles, HealthScores, SentinelTasks, Issues, Findings}
}
