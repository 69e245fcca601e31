// Package config owns tact.toml: its types, defaults, loading and validation. It is pure
// (standard library, BurntSushi/toml and the domain's daemon/queue, which does no I/O), so
// tactctl can check a file anywhere.
package config

import (
	"time"

	"github.com/tact-hq/tact/daemon/queue"
)

// Config is a whole tact.toml.
type Config struct {
	Daemon   Daemon    `toml:"daemon"`
	Database Database  `toml:"database"`
	Accounts []Account `toml:"account"`
	Feeds    []Feed    `toml:"feed"`
	Notify   []Notify  `toml:"notify"`

	// Path is the file the config was read from ("" for the built-in defaults).
	Path string `toml:"-"`
}

// Daemon is the [daemon] table.
type Daemon struct {
	DataDir   string   `toml:"data_dir"`   // tact.db lives here
	Listen    string   `toml:"listen"`     // HTTP API, web UI, /metrics
	PluginDir string   `toml:"plugin_dir"` // external tact-plugin-* binaries
	Rules     []string `toml:"rules"`      // globs of rule files
	TimeZone  string   `toml:"timezone"`   // default for campaigns
	LogLevel  string   `toml:"log_level"`  // debug, info, warn, error
	// Late is the default grace for overdue posts; campaigns may override it.
	Late Duration `toml:"late"`
	// ShutdownGrace bounds how long SIGTERM waits for publishes in flight.
	ShutdownGrace Duration `toml:"shutdown_grace"`
	// PublicURL is the address people reach the web UI at, when it differs from listen (a
	// reverse proxy). An https:// URL makes the UI's cookies Secure.
	PublicURL string `toml:"public_url"`
	// MaxLead bounds a campaign's lead (how long before each tick its post is made), and
	// MaxOpenPosts the posts one campaign may have open (draft, pending, approved, held,
	// publishing): see Limits.
	MaxLead      Duration `toml:"max_lead"`
	MaxOpenPosts int      `toml:"max_open_posts_per_campaign"`
	// MediaMaxBytes bounds one uploaded attachment (default 40 MiB); each network's own
	// limits are smaller and are checked before approval.
	MediaMaxBytes int64 `toml:"media_max_bytes"`
	// MediaFetch says whether POST /api/v1/media may take a URL, fetched once from a public
	// server: "public" (the default) or "off" (uploads only).
	MediaFetch string `toml:"media_fetch"`
	// SecretsKey names where the key that encrypts connected accounts' credentials is read
	// from: "file:/path" or "env:NAME", never the key itself. The key is 32 random bytes
	// written in hex or base64 (docs/operations.md, "Connecting accounts"). Empty: accounts
	// cannot be connected from tact, only configured with tokens in tact.toml.
	SecretsKey string `toml:"secrets_key"`
	// SecretsKeyBytes is the key SecretsKey names, read and decoded by Load (nil when
	// SecretsKey is empty). It is a secret: never print it.
	SecretsKeyBytes []byte `toml:"-"`
}

// Limits returns the bounds on each campaign that the store and the scheduler enforce.
func (d Daemon) Limits() queue.Limits {
	return queue.Limits{MaxLead: d.MaxLead.Duration, MaxOpenPosts: d.MaxOpenPosts}
}

// Database is the [database] table. Only "sqlite" exists today.
type Database struct {
	Driver string `toml:"driver"`
	DSN    string `toml:"dsn"`
}

// Account is one [[account]]: one account on one network, served by one plugin process.
type Account struct {
	Name        string            `toml:"name"`
	Plugin      string            `toml:"plugin"`
	Concurrency int               `toml:"concurrency"` // default 1
	Spacing     Duration          `toml:"spacing"`     // default 1m
	Settings    map[string]string `toml:"settings"`    // handed to the plugin, "env:"/"file:" resolved
}

// Feed is one [[feed]]: a news source watched for context.
type Feed struct {
	Name     string   `toml:"name"`
	URL      string   `toml:"url"` // http(s) or file://
	Every    Duration `toml:"every"`
	Timeout  Duration `toml:"timeout"`
	Language string   `toml:"language"`
	// URLSecret is true when url was read from env: or file:. The URL is then a secret as
	// a whole: messages and the status show only its scheme and host (config/redact).
	URLSecret bool `toml:"-"`
}

// Notify is one [[notify]] target.
type Notify struct {
	Kind string `toml:"kind"` // "webhook"
	URL  string `toml:"url"`
}

// Duration is a time.Duration written as a Go duration string in TOML.
type Duration struct{ time.Duration }

// UnmarshalText lets BurntSushi/toml read "90s".
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return err
	}
	d.Duration = v
	return nil
}

// MarshalText writes d as a Go duration string.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.Duration.String()), nil }
