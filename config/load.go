package config

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/tact-hq/tact/daemon/queue"
)

// Defaults for keys a file leaves out.
const (
	DefaultDataDir       = "/var/lib/tact"
	DefaultListen        = "127.0.0.1:8080"
	DefaultPluginDir     = "/usr/lib/tact/plugins"
	DefaultRules         = "/etc/tact/rules.d/*.toml"
	DefaultTimeZone      = "UTC"
	DefaultLogLevel      = "info"
	DefaultLate          = 30 * time.Minute
	DefaultShutdownGrace = 8 * time.Second
	// DefaultMediaMaxBytes and MaxMediaMaxBytes bound [daemon] media_max_bytes: a Publish
	// carries its attachments' bytes to the plugin, within sdk.MaxMessageBytes (256 MiB).
	DefaultMediaMaxBytes = 40 << 20
	MaxMediaMaxBytes     = 200 << 20
	DefaultFeedEvery     = 2 * time.Minute
	DefaultFeedTimeout   = 20 * time.Second
	DefaultSpacing       = time.Minute
	// DefaultMaxLead and DefaultMaxOpenPosts are [daemon] max_lead and
	// max_open_posts_per_campaign when the file leaves them out (queue.DefaultLimits).
	DefaultMaxLead      = queue.DefaultMaxLead
	DefaultMaxOpenPosts = queue.DefaultMaxOpenPosts
	// The bounds of those keys: a lead shorter than an hour leaves people no time to
	// approve, and a schedule is not computed more than five years ahead.
	MinMaxLead      = time.Hour
	MaxMaxLead      = 5 * 365 * 24 * time.Hour
	MaxMaxOpenPosts = 1_000_000
)

// Problem is one thing wrong in a config file, with where it is.
type Problem struct {
	File    string
	Line    int // 0 when unknown
	Message string
}

func (p Problem) String() string {
	if p.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", p.File, p.Line, p.Message)
	}
	return p.File + ": " + p.Message
}

// Errors is every problem found in a config file. Load returns all of them at once so an
// admin fixes the file in one pass.
type Errors []Problem

func (e Errors) Error() string {
	var b strings.Builder
	for i, p := range e {
		if i > 0 {
			b.WriteString("\n")
		}
		b.WriteString(p.String())
	}
	return b.String()
}

// Default returns the configuration used when no file is given: every default filled in.
func Default() *Config {
	c := &Config{}
	c.applyDefaults()
	return c
}

// Load reads, decodes, validates and resolves the file at path. Secrets ("env:NAME",
// "file:/path") are resolved in the returned Config; they are never part of an error.
func Load(path string) (*Config, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read config: %w (pass the file with --config PATH)", err)
	}
	return Parse(path, src)
}

// decodeErrLine reads BurntSushi's decoding errors: "toml: line 5 (last key "k"): message".
// The line is missing from some of them; the last key then says where.
var decodeErrLine = regexp.MustCompile(`^toml: (?:line (\d+) ?)?(?:\(last key "([^"]*)"\))?: (.*)$`)

// Parse is Load for a file already read; name is used in messages.
func Parse(name string, src []byte) (*Config, error) {
	var c Config
	md, err := toml.NewDecoder(bytes.NewReader(src)).Decode(&c)
	if err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			line := pe.Position.Line
			if line == 0 {
				// The lexer ran off the end of the file (an unterminated string or escape).
				line = bytes.Count(src, []byte("\n")) + 1
			}
			return nil, Errors{{File: name, Line: line, Message: pe.Message}}
		}
		// Type mismatches are not ParseErrors; their text carries the line:
		// "toml: line 5 (last key "k"): incompatible types: …".
		if m := decodeErrLine.FindStringSubmatch(err.Error()); m != nil {
			n, _ := strconv.Atoi(m[1])
			if n == 0 && m[2] != "" {
				n = newLocator(src).undecoded(strings.Split(m[2], "."))
			}
			if n == 0 {
				n = 1
			}
			msg := m[3]
			if m[2] != "" {
				msg = fmt.Sprintf("at key %q: %s", m[2], msg)
			}
			return nil, Errors{{File: name, Line: n, Message: msg}}
		}
		return nil, Errors{{File: name, Message: err.Error()}}
	}
	c.Path = name
	loc := newLocator(src)
	var errs Errors
	for _, k := range md.Undecoded() {
		path := []string(k)
		table := "top level"
		if len(path) > 1 {
			table = "[" + strings.Join(path[:len(path)-1], ".") + "]"
		}
		errs = append(errs, Problem{File: name, Line: loc.undecoded(path),
			Message: fmt.Sprintf("unknown key %q in %s", path[len(path)-1], table)})
	}
	// The decoder matches keys to fields ignoring case; tact.toml's keys are lower case, so
	// "Listen" or [[ACCOUNT]] would pass unnoticed. Plugin settings keep their own case.
	for _, k := range md.Keys() {
		path := []string(k)
		if len(path) > 2 && strings.EqualFold(path[0], "account") && strings.EqualFold(path[1], "settings") {
			continue
		}
		last := path[len(path)-1]
		if last != strings.ToLower(last) {
			errs = append(errs, Problem{File: name, Line: loc.undecoded(path),
				Message: fmt.Sprintf("key %q must be written in lower case (%q)", last, strings.ToLower(last))})
		}
	}
	errs = append(errs, c.explicitZeros(name, md, loc)...)
	c.applyDefaults()
	errs = append(errs, c.validate(name, loc)...)
	if len(errs) > 0 {
		sort.SliceStable(errs, func(i, j int) bool { return errs[i].Line < errs[j].Line })
		return nil, errs
	}
	return &c, nil
}

func (c *Config) applyDefaults() {
	d := &c.Daemon
	if d.DataDir == "" {
		d.DataDir = DefaultDataDir
	}
	if d.Listen == "" {
		d.Listen = DefaultListen
	}
	if d.PluginDir == "" {
		d.PluginDir = DefaultPluginDir
	}
	if d.Rules == nil {
		d.Rules = []string{DefaultRules}
	}
	if d.TimeZone == "" {
		d.TimeZone = DefaultTimeZone
	}
	if d.LogLevel == "" {
		d.LogLevel = DefaultLogLevel
	}
	if d.Late.Duration == 0 {
		d.Late.Duration = DefaultLate
	}
	if d.ShutdownGrace.Duration == 0 {
		d.ShutdownGrace.Duration = DefaultShutdownGrace
	}
	if d.MaxLead.Duration == 0 {
		d.MaxLead.Duration = DefaultMaxLead
	}
	if d.MaxOpenPosts == 0 {
		d.MaxOpenPosts = DefaultMaxOpenPosts
	}
	if d.MediaMaxBytes == 0 {
		d.MediaMaxBytes = DefaultMediaMaxBytes
	}
	if d.MediaFetch == "" {
		d.MediaFetch = "public"
	}
	if c.Database.Driver == "" {
		c.Database.Driver = "sqlite"
	}
	for i := range c.Accounts {
		a := &c.Accounts[i]
		if a.Concurrency == 0 {
			a.Concurrency = 1
		}
		if a.Spacing.Duration == 0 {
			a.Spacing.Duration = DefaultSpacing
		}
	}
	for i := range c.Feeds {
		f := &c.Feeds[i]
		if f.Every.Duration == 0 {
			f.Every.Duration = DefaultFeedEvery
		}
		if f.Timeout.Duration == 0 {
			f.Timeout.Duration = DefaultFeedTimeout
		}
	}
}

// explicitZeros refuses keys written with the value that otherwise stands for "not set"
// (applyDefaults would silently replace it): an empty timezone would be UTC, and a zero
// max_lead or max_open_posts_per_campaign the default, not what the admin wrote.
func (c *Config) explicitZeros(file string, md toml.MetaData, loc *locator) Errors {
	var errs Errors
	d := c.Daemon
	for _, k := range []struct {
		key  string
		zero bool
		msg  string
	}{
		{"timezone", d.TimeZone == "", "timezone in [daemon] is empty: name an IANA time zone (e.g. \"Europe/Paris\"), or leave the key out for UTC"},
		{"max_lead", d.MaxLead.Duration == 0, fmt.Sprintf("max_lead in [daemon] must be at least %s; leave the key out for the default, %s", queue.ShortDuration(MinMaxLead), queue.ShortDuration(DefaultMaxLead))},
		{"max_open_posts_per_campaign", d.MaxOpenPosts == 0, fmt.Sprintf("max_open_posts_per_campaign in [daemon] must be at least 1; leave the key out for the default, %d", DefaultMaxOpenPosts)},
	} {
		if k.zero && md.IsDefined("daemon", k.key) {
			errs = append(errs, Problem{File: file, Line: loc.line("daemon", -1, k.key), Message: k.msg})
		}
	}
	return errs
}

// validate checks values and resolves secret references in place.
func (c *Config) validate(file string, loc *locator) Errors {
	var errs Errors
	bad := func(line int, format string, args ...any) {
		errs = append(errs, Problem{File: file, Line: line, Message: fmt.Sprintf(format, args...)})
	}
	d := &c.Daemon
	if _, _, err := net.SplitHostPort(d.Listen); err != nil {
		bad(loc.line("daemon", -1, "listen"), "listen %q in [daemon] is not host:port (e.g. \"127.0.0.1:8080\")", d.Listen)
	}
	if d.TimeZone == "Local" {
		bad(loc.line("daemon", -1, "timezone"), "timezone \"Local\" in [daemon] is the host's zone, which changes with the machine tact runs on: name an IANA time zone (e.g. \"Europe/Paris\", or \"UTC\")")
	} else if _, err := time.LoadLocation(d.TimeZone); err != nil {
		bad(loc.line("daemon", -1, "timezone"), "timezone %q in [daemon] is not an IANA time zone (e.g. \"Europe/Paris\")", d.TimeZone)
	}
	if v := d.MaxLead.Duration; v < MinMaxLead || v > MaxMaxLead {
		bad(loc.line("daemon", -1, "max_lead"), "max_lead %s in [daemon] must be between %s and %s (5 years); the default is %s (90 days)",
			queue.ShortDuration(v), queue.ShortDuration(MinMaxLead), queue.ShortDuration(MaxMaxLead), queue.ShortDuration(DefaultMaxLead))
	}
	if v := d.MaxOpenPosts; v < 1 || v > MaxMaxOpenPosts {
		bad(loc.line("daemon", -1, "max_open_posts_per_campaign"), "max_open_posts_per_campaign %d in [daemon] must be between 1 and %d; the default is %d",
			v, MaxMaxOpenPosts, DefaultMaxOpenPosts)
	}
	switch d.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		bad(loc.line("daemon", -1, "log_level"), "log_level %q in [daemon] must be debug, info, warn or error", d.LogLevel)
	}
	for _, g := range d.Rules {
		if _, err := filepath.Match(g, ""); err != nil {
			bad(loc.line("daemon", -1, "rules"), "rules glob %q in [daemon] is malformed: %v", g, err)
		}
	}
	if d.Late.Duration < 0 || d.ShutdownGrace.Duration < 0 {
		bad(loc.line("daemon", -1, "late"), "durations in [daemon] must not be negative")
	}
	if d.MediaMaxBytes < 1 || d.MediaMaxBytes > MaxMediaMaxBytes {
		bad(loc.line("daemon", -1, "media_max_bytes"), "media_max_bytes %d in [daemon] must be between 1 and %d (200 MiB); the default is %d (40 MiB)", d.MediaMaxBytes, MaxMediaMaxBytes, DefaultMediaMaxBytes)
	}
	switch d.MediaFetch {
	case "public", "off":
	default:
		bad(loc.line("daemon", -1, "media_fetch"), "media_fetch %q in [daemon] must be \"public\" (fetch media URLs from public servers) or \"off\" (uploads only)", d.MediaFetch)
	}
	if d.PublicURL != "" {
		if u, err := url.Parse(d.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad(loc.line("daemon", -1, "public_url"), "public_url %q in [daemon] must be an http:// or https:// URL (e.g. \"https://tact.example\")", d.PublicURL)
		}
	}
	if d.SecretsKey != "" {
		key, err := secretsKey(d.SecretsKey)
		if err != nil {
			bad(loc.line("daemon", -1, "secrets_key"), "secrets_key in [daemon]: %v", err)
		}
		d.SecretsKeyBytes = key
	}
	switch c.Database.Driver {
	case "sqlite":
	case "postgres":
		bad(loc.line("database", -1, "driver"), "driver \"postgres\" in [database] is not available in this version; use \"sqlite\"")
	default:
		bad(loc.line("database", -1, "driver"), "driver %q in [database] is unknown; use \"sqlite\"", c.Database.Driver)
	}

	names := map[string]bool{}
	for i := range c.Accounts {
		a := &c.Accounts[i]
		if a.Name == "" {
			bad(loc.line("account", i, "name"), "[[account]] number %d has no name", i+1)
		} else if names[a.Name] {
			bad(loc.line("account", i, "name"), "account name %q is used twice; names must be unique", a.Name)
		}
		names[a.Name] = true
		if a.Plugin == "" {
			bad(loc.line("account", i, "plugin"), "account %q has no plugin (e.g. plugin = \"mastodon\")", a.Name)
		}
		if a.Concurrency < 1 {
			bad(loc.line("account", i, "concurrency"), "concurrency of account %q must be at least 1", a.Name)
		}
		if a.Spacing.Duration < 0 {
			bad(loc.line("account", i, "spacing"), "spacing of account %q must not be negative", a.Name)
		}
		for k, v := range a.Settings {
			r, err := Resolve(v)
			if err != nil {
				bad(loc.line("account#"+strconv.Itoa(i)+".settings", -1, k), "setting %q of account %q: %v", k, a.Name, err)
				continue
			}
			a.Settings[k] = r
		}
	}
	feeds := map[string]bool{}
	for i := range c.Feeds {
		f := &c.Feeds[i]
		if f.Name == "" {
			bad(loc.line("feed", i, "name"), "[[feed]] number %d has no name", i+1)
		} else if feeds[f.Name] {
			bad(loc.line("feed", i, "name"), "feed name %q is used twice; names must be unique", f.Name)
		}
		feeds[f.Name] = true
		// A file:// URL names the feed itself, not a secret file to read the URL from.
		r, err := f.URL, error(nil)
		if !strings.HasPrefix(f.URL, "file://") {
			r, err = Resolve(f.URL)
		}
		if err != nil {
			bad(loc.line("feed", i, "url"), "url of feed %q: %v", f.Name, err)
		} else if u, err := url.Parse(r); err != nil || (u.Scheme != "http" && u.Scheme != "https" && u.Scheme != "file") {
			bad(loc.line("feed", i, "url"), "url of feed %q must be an http://, https:// or file:// URL", f.Name)
		} else {
			f.URLSecret = r != f.URL
			f.URL = r
		}
		if f.Every.Duration < time.Second {
			bad(loc.line("feed", i, "every"), "every of feed %q must be at least 1s", f.Name)
		}
		if f.Timeout.Duration <= 0 {
			bad(loc.line("feed", i, "timeout"), "timeout of feed %q must be positive", f.Name)
		}
	}
	for i := range c.Notify {
		n := &c.Notify[i]
		if n.Kind != "webhook" {
			bad(loc.line("notify", i, "kind"), "notify kind %q is unknown; use \"webhook\"", n.Kind)
		}
		r, err := Resolve(n.URL)
		if err != nil {
			bad(loc.line("notify", i, "url"), "url of [[notify]] number %d: %v", i+1, err)
		} else if u, err := url.Parse(r); err != nil || (u.Scheme != "http" && u.Scheme != "https") {
			bad(loc.line("notify", i, "url"), "url of [[notify]] number %d must be an http:// or https:// URL", i+1)
		} else {
			n.URL = r
		}
	}
	return errs
}

// SecretsKeyBytes is the length of [daemon] secrets_key: an AES-256 key.
const SecretsKeyBytes = 32

// MakeSecretsKey is the command that makes a secrets_key file, for messages and docs.
const MakeSecretsKey = "head -c32 /dev/urandom | base64 > /etc/tact/secrets.key && chmod 600 /etc/tact/secrets.key"

// secretsKey reads the key ref names (file: or env: only) and decodes it from hex or
// base64. Errors never repeat the key.
func secretsKey(ref string) ([]byte, error) {
	if !strings.HasPrefix(ref, "file:") && !strings.HasPrefix(ref, "env:") {
		return nil, fmt.Errorf("must name where the key is read from, as file:/etc/tact/secrets.key or env:TACT_SECRETS_KEY, never the key itself (make one with: %s)", MakeSecretsKey)
	}
	v, err := Resolve(ref)
	if err != nil {
		return nil, err
	}
	where := strings.TrimPrefix(strings.TrimPrefix(ref, "file:"), "env:")
	if strings.HasPrefix(ref, "env:") {
		where = "environment variable " + where
	}
	v = strings.TrimSpace(v)
	if b, err := hex.DecodeString(v); err == nil && len(b) == SecretsKeyBytes {
		return b, nil
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(v); err == nil {
			if len(b) == SecretsKeyBytes {
				return b, nil
			}
			return nil, fmt.Errorf("%s holds %d bytes in base64; the key is %d random bytes: make one with %s", where, len(b), SecretsKeyBytes, MakeSecretsKey)
		}
	}
	return nil, fmt.Errorf("%s does not hold %d bytes in hex or base64 (%d characters); make a key with %s", where, SecretsKeyBytes, len(v), MakeSecretsKey)
}

// Resolve turns a secret reference into its value: "env:NAME" reads an environment
// variable, "file:/path" reads a file (trimmed); anything else is returned as it is.
func Resolve(v string) (string, error) {
	switch {
	case strings.HasPrefix(v, "env:"):
		name := strings.TrimPrefix(v, "env:")
		val, ok := os.LookupEnv(name)
		if !ok || val == "" {
			return "", fmt.Errorf("environment variable %s is not set (set it, or write file:/path)", name)
		}
		return val, nil
	case strings.HasPrefix(v, "file:"):
		path := strings.TrimPrefix(v, "file:")
		b, err := os.ReadFile(path)
		if err != nil {
			return "", fmt.Errorf("cannot read secret file %s: %v", path, err)
		}
		return strings.TrimSpace(string(b)), nil
	}
	return v, nil
}
