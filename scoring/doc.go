// Package scoring turns cluster metrics and alert counts into health scores,
// and fires prioritised sentinel triggers with cooldowns.
package scoring
