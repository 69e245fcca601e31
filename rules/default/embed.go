// Package defaultrules embeds tact's default rule pack (rules/default/*.toml) and its
// rule tests (*.test.toml), so that the daemon's demo and installers can ship it.
package defaultrules

import "embed"

// FS holds the pack's rule files and their *.test.toml files.
//
//go:embed *.toml
var FS embed.FS
