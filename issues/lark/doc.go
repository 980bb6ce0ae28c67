// Package lark is the source of issues.
package lark
