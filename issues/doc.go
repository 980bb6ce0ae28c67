// Package issues ingests alerts idempotently (Alertmanager webhooks and other
// sources) and groups them into tracked issues with a lifecycle.
package issues
