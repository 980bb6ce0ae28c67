// Package mirror is the MySQL-protocol shadow proxy: it answers clients from
// the primary, mirrors their statements asynchronously to a shadow, and logs
// both sides of every command.
package mirror
