// Package conformance checks a plugin binary against what tactd relies on, through the
// same path the daemon uses (plugins/host: a real child process, the go-plugin handshake,
// AutoMTLS, gRPC). Run it from your plugin's own tests against a fake of your network:
//
//	func TestConformance(t *testing.T) {
//		fake := newFakeNetwork(t) // an httptest server speaking your network's API
//		conformance.Run(t, conformance.Config{
//			Binary:   conformance.Build(t, "github.com/you/x/cmd/tact-plugin-x"),
//			Settings: map[string]string{"server": fake.URL, "token": "t"},
//		})
//	}
//
// or from a shell: tactctl plugin check ./tact-plugin-x --setting server=… --setting token=….
// The checks publish and delete real posts on whatever the settings point at: use a fake.
package conformance

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tact-hq/tact/plugins/host"
	"github.com/tact-hq/tact/plugins/sdk"
)

// Config says which binary to check and how to configure it.
type Config struct {
	// Binary is the path of the plugin binary.
	Binary string
	// Settings are handed to Configure, as an account's settings would be.
	Settings map[string]string
	// Post is the post to publish (its text gets a unique suffix); empty means a short
	// text. Set it when your network needs more (a link, media).
	Post sdk.Post
	// Timeout bounds each call; default 30s.
	Timeout time.Duration
	// Logger receives the plugin's log output; nil discards it.
	Logger *slog.Logger
}

// Result is the outcome of one check.
type Result struct {
	Name    string `json:"name"`
	OK      bool   `json:"ok"`
	Skipped bool   `json:"skipped,omitempty"`
	// Detail says what went wrong, why the check was skipped, or what was seen.
	Detail string `json:"detail,omitempty"`
}

// Failed reports whether any result failed.
func Failed(results []Result) bool {
	for _, r := range results {
		if !r.OK && !r.Skipped {
			return true
		}
	}
	return false
}

// Run runs Check and reports each result as a subtest of t.
func Run(t *testing.T, cfg Config) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if d, ok := t.Deadline(); ok {
		ctx, cancel = context.WithDeadline(ctx, d.Add(-5*time.Second))
		defer cancel()
	}
	for _, r := range Check(ctx, cfg) {
		t.Run(r.Name, func(t *testing.T) {
			switch {
			case r.Skipped:
				t.Skip(r.Detail)
			case !r.OK:
				t.Error(r.Detail)
			default:
				t.Log(r.Detail)
			}
		})
	}
}

// knownCapabilities are the capabilities the daemon understands.
var knownCapabilities = []string{"lookup", "delete", "trends", "media", "oauth"}

// checker carries what earlier checks learned to the later ones.
type checker struct {
	cfg     Config
	results []Result
	desc    sdk.Description
	net     sdk.Network
	receipt sdk.Receipt
	key     string
}

func (c *checker) pass(name, format string, args ...any) {
	c.results = append(c.results, Result{Name: name, OK: true, Detail: fmt.Sprintf(format, args...)})
}

func (c *checker) fail(name, format string, args ...any) {
	c.results = append(c.results, Result{Name: name, Detail: fmt.Sprintf(format, args...)})
}

func (c *checker) skip(name, format string, args ...any) {
	c.results = append(c.results, Result{Name: name, Skipped: true, Detail: fmt.Sprintf(format, args...)})
}

// Check runs every check in order and returns their results. Later checks are skipped
// when what they need (a handshake, a configured account, a publish) failed.
func Check(ctx context.Context, cfg Config) []Result {
	if cfg.Timeout <= 0 {
		cfg.Timeout = 30 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	c := &checker{cfg: cfg, key: "tact-conformance-" + randomHex()}
	hostCfg := host.Config{Logger: cfg.Logger, CallTimeout: cfg.Timeout, StartTimeout: cfg.Timeout}

	probe, err := host.New(hostCfg, nil)
	if err != nil {
		c.fail("handshake", "%v", err)
		return c.results
	}
	defer probe.Close()
	info, err := probe.Probe(ctx, cfg.Binary)
	if err != nil {
		c.fail("handshake", "%v", err)
		return c.skipRest("the handshake failed")
	}
	c.pass("handshake", "protocol version %d, API version %d (daemon: %d)", sdk.ProtocolVersion, info.APIVersion, sdk.APIVersion)
	c.desc = info.Description
	c.checkDescribe()

	c.checkConfigureEmpty(ctx, hostCfg)

	m, err := host.New(hostCfg, []host.Account{{Name: "conformance", Binary: cfg.Binary, Settings: cfg.Settings}})
	if err != nil {
		c.fail("configure", "%v", err)
		return c.skipRest("the plugin could not be configured")
	}
	defer m.Close()
	if err := m.Start(ctx, "conformance"); err != nil {
		c.fail("configure", "Configure with the given settings failed: %v", err)
		return c.skipRest("the plugin could not be configured")
	}
	c.net, _ = m.Network("conformance")
	// Limits may depend on the settings (a server's configured maximum): from here on,
	// the configured account's description is the one that counts.
	d, err := c.net.Describe(ctx)
	if err != nil {
		c.fail("configure", "Describe after Configure failed: %v", err)
		return c.skipRest("the configured plugin does not describe itself")
	}
	c.desc = d
	c.pass("configure", "accepted the settings; max length %d (%s)", d.MaxLength, d.Counting)

	c.checkValidate(ctx)
	if c.checkPublish(ctx) {
		c.checkIdempotent(ctx)
		c.checkLookup(ctx)
	} else {
		c.skip("idempotency", "needs a successful publish")
		c.skip("lookup", "needs a successful publish")
	}
	c.checkLookupUnknown(ctx)
	c.checkTypedRefusal(ctx)
	c.checkDeadline(ctx)
	c.checkTrends(ctx)
	c.checkDelete(ctx)
	return c.results
}

// allChecks lists the checks after the handshake, for skipRest.
var allChecks = []string{"describe", "configure-errors", "configure", "validate", "publish", "idempotency", "lookup",
	"lookup-unknown", "typed-errors", "deadline", "trends", "delete"}

func (c *checker) skipRest(why string) []Result {
	done := map[string]bool{}
	for _, r := range c.results {
		done[r.Name] = true
	}
	for _, name := range allChecks {
		if !done[name] {
			c.skip(name, "%s", why)
		}
	}
	return c.results
}

func (c *checker) checkDescribe() {
	d := c.desc
	var bad []string
	if d.Name == "" {
		bad = append(bad, "Name is empty")
	}
	if d.Version == "" {
		bad = append(bad, "Version is empty")
	}
	if d.MaxLength < 0 || d.MaxMedia < 0 {
		bad = append(bad, "MaxLength and MaxMedia must not be negative")
	}
	switch d.Counting {
	case sdk.CountRunes, sdk.CountGraphemes, sdk.CountMastodon, sdk.CountBytes, sdk.CountX:
	case "":
		if d.MaxLength > 0 {
			bad = append(bad, "MaxLength is set but Counting is empty; say how the length is counted")
		}
	default:
		bad = append(bad, fmt.Sprintf("Counting %q is not one of runes, graphemes, mastodon, bytes, x", d.Counting))
	}
	for _, cap := range d.Capabilities {
		if !slices.Contains(knownCapabilities, cap) {
			bad = append(bad, fmt.Sprintf("capability %q is unknown (known: %s)", cap, strings.Join(knownCapabilities, ", ")))
		}
	}
	for _, s := range d.SecretSetting {
		if !slices.Contains(d.SettingsKeys, s) {
			bad = append(bad, fmt.Sprintf("secret setting %q is not in SettingsKeys", s))
		}
	}
	if len(bad) > 0 {
		c.fail("describe", "%s", strings.Join(bad, "; "))
		return
	}
	c.pass("describe", "%s %s: max length %d (%s), capabilities %v", d.Name, d.Version, d.MaxLength, d.Counting, d.Capabilities)
}

// checkConfigureEmpty configures a second process with no settings at all: a plugin
// that needs settings must say so with a typed error (Permanent or Auth).
func (c *checker) checkConfigureEmpty(ctx context.Context, hostCfg host.Config) {
	m, err := host.New(hostCfg, []host.Account{{Name: "conformance-empty", Binary: c.cfg.Binary, Settings: map[string]string{}}})
	if err != nil {
		c.fail("configure-errors", "%v", err)
		return
	}
	defer m.Close()
	err = m.Start(ctx, "conformance-empty")
	if err == nil {
		c.skip("configure-errors", "the plugin accepts empty settings, so there was no error to look at")
		return
	}
	var typed *sdk.Error
	if !errors.As(err, &typed) {
		c.fail("configure-errors", "Configure with no settings returned an untyped error (return sdk.Errorf(sdk.Permanent, …) or sdk.Auth): %v", err)
		return
	}
	if typed.Kind != sdk.Permanent && typed.Kind != sdk.Auth {
		c.fail("configure-errors", "missing settings gave a %s error; retrying will not fix them: use Permanent (or Auth for credentials): %v", typed.Kind, err)
		return
	}
	c.pass("configure-errors", "missing settings: %v", err)
}

// text returns a text of exactly n counted units under counting.
func text(n int) string {
	const pattern = "tact conformance check "
	var b strings.Builder
	for b.Len() < n {
		b.WriteString(pattern)
	}
	s := b.String()[:n]
	if n > 0 && s[n-1] == ' ' {
		s = s[:n-1] + "x" // networks may trim trailing space before counting
	}
	return s
}

func (c *checker) post(key string) sdk.Post {
	p := c.cfg.Post
	if p.Text == "" {
		p.Text = "tact conformance check"
	}
	p.Text += " " + key[len(key)-8:]
	return p
}

func (c *checker) checkValidate(ctx context.Context) {
	if ps, err := c.net.Validate(ctx, c.post(c.key)); err != nil || len(ps) > 0 {
		c.fail("validate", "an ordinary post was refused: problems %v, error %v", ps, err)
		return
	}
	max := c.desc.MaxLength
	if max == 0 {
		c.pass("validate", "accepts an ordinary post; no length limit to check")
		return
	}
	at := c.cfg.Post
	at.Text = text(max)
	if ps, err := c.net.Validate(ctx, at); err != nil || len(ps) > 0 {
		c.fail("validate", "a text of exactly MaxLength (%d, counted as %s) was refused: problems %v, error %v", max, c.desc.Counting, ps, err)
		return
	}
	over := at
	over.Text = text(max + 1)
	ps, err := c.net.Validate(ctx, over)
	if err != nil {
		c.fail("validate", "Validate of a text one over MaxLength failed instead of listing a problem: %v", err)
		return
	}
	if !slices.ContainsFunc(ps, func(p sdk.Problem) bool { return p.Field == "text" }) {
		c.fail("validate", "a text of MaxLength+1 (%d) was not refused with a problem on field \"text\" (problems: %v)", max+1, ps)
		return
	}
	c.pass("validate", "MaxLength %d passes, %d is refused: %v", max, max+1, ps)
}

func (c *checker) checkPublish(ctx context.Context) bool {
	r, err := c.net.Publish(ctx, c.post(c.key), c.key)
	if err != nil {
		c.fail("publish", "Publish failed: %v", err)
		return false
	}
	if r.RemoteID == "" {
		c.fail("publish", "the receipt has no RemoteID: %+v", r)
		return false
	}
	c.receipt = r
	c.pass("publish", "remote id %s, url %s", r.RemoteID, r.URL)
	return true
}

func (c *checker) checkIdempotent(ctx context.Context) {
	r, err := c.net.Publish(ctx, c.post(c.key), c.key)
	switch {
	case err != nil:
		c.fail("idempotency", "publishing again with the same key failed (it must return the first receipt): %v", err)
	case r.RemoteID != c.receipt.RemoteID || r.URL != c.receipt.URL || !r.PublishedAt.Equal(c.receipt.PublishedAt):
		c.fail("idempotency", "the same key gave a different receipt: first %+v, then %+v; a repeated key must never make a second post", c.receipt, r)
	default:
		c.pass("idempotency", "the same key returned the first receipt")
	}
}

func (c *checker) checkLookup(ctx context.Context) {
	r, found, err := c.net.Lookup(ctx, c.key)
	switch {
	case err != nil:
		c.fail("lookup", "Lookup of a published key failed: %v", err)
	case !found:
		c.fail("lookup", "Lookup did not find the post just published with key %s", c.key)
	case r.RemoteID != c.receipt.RemoteID:
		c.fail("lookup", "Lookup found remote id %s, but Publish returned %s", r.RemoteID, c.receipt.RemoteID)
	default:
		c.pass("lookup", "found %s", r.RemoteID)
	}
}

func (c *checker) checkLookupUnknown(ctx context.Context) {
	unknown := "tact-conformance-never-" + randomHex()
	r, found, err := c.net.Lookup(ctx, unknown)
	switch {
	case err != nil:
		c.fail("lookup-unknown", "Lookup of a key never published failed; it must answer found=false when the network can tell: %v", err)
	case found:
		c.fail("lookup-unknown", "Lookup found a post for a key never published: %+v", r)
	default:
		c.pass("lookup-unknown", "a key never published is not found")
	}
}

// checkTypedRefusal publishes a post the network must refuse and expects a Permanent
// error, reported by the plugin (not a transport failure).
func (c *checker) checkTypedRefusal(ctx context.Context) {
	if c.desc.MaxLength == 0 {
		c.skip("typed-errors", "no MaxLength, so no post the plugin is sure to refuse")
		return
	}
	p := c.cfg.Post
	p.Text = text(c.desc.MaxLength + 1)
	key := "tact-conformance-toolong-" + randomHex()
	_, err := c.net.Publish(ctx, p, key)
	var typed *sdk.Error
	switch {
	case err == nil:
		c.fail("typed-errors", "a post over MaxLength was published; Publish must refuse it with a Permanent error")
	case host.OutcomeUnknown(err):
		c.fail("typed-errors", "publishing an over-long post broke the call (crash or timeout): %v", err)
	case !errors.As(err, &typed):
		c.fail("typed-errors", "an over-long post gave an untyped error (treated as retryable, so it would be tried again): %v", err)
	case typed.Kind != sdk.Permanent:
		c.fail("typed-errors", "an over-long post gave a %s error, want permanent: %v", typed.Kind, err)
	default:
		c.pass("typed-errors", "an over-long post is refused: %v", err)
	}
}

// checkDeadline makes a call whose deadline has almost passed, then an ordinary one: the
// plugin must still answer promptly (a plugin that ignores ctx and holds a lock would not).
func (c *checker) checkDeadline(ctx context.Context) {
	short, cancel := context.WithTimeout(ctx, time.Millisecond)
	start := time.Now()
	_, _, _ = c.net.Lookup(short, c.key)
	cancel()
	if d := time.Since(start); d > 5*time.Second {
		c.fail("deadline", "a call with a 1ms deadline took %s to return", d.Round(time.Millisecond))
		return
	}
	next, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	if _, err := c.net.Describe(next); err != nil {
		c.fail("deadline", "after a call that ran out of time, the next call failed: %v", err)
		return
	}
	c.pass("deadline", "a call with a 1ms deadline returned and the plugin kept answering")
}

func (c *checker) checkTrends(ctx context.Context) {
	tr, ok := c.net.(sdk.Trender)
	if !ok || !slices.Contains(c.desc.Capabilities, "trends") {
		c.skip("trends", "the plugin does not list the trends capability")
		return
	}
	ts, err := tr.Trends(ctx)
	if err != nil {
		// A typed Permanent error is how a plugin says this server offers no trends
		// (a feature the server lacks); anything else is a failure.
		var te *sdk.Error
		if errors.As(err, &te) && te.Kind == sdk.Permanent {
			c.skip("trends", "the server offers no trends: %v", err)
			return
		}
		c.fail("trends", "Trends failed: %v", err)
		return
	}
	for _, t := range ts {
		if t.Title == "" {
			c.fail("trends", "a trend has no title: %+v", t)
			return
		}
	}
	c.pass("trends", "%d trends", len(ts))
}

func (c *checker) checkDelete(ctx context.Context) {
	if !slices.Contains(c.desc.Capabilities, "delete") {
		c.skip("delete", "the plugin does not list the delete capability")
		return
	}
	if c.receipt.RemoteID == "" {
		c.skip("delete", "needs a successful publish")
		return
	}
	if err := c.net.Delete(ctx, c.receipt.RemoteID); err != nil {
		c.fail("delete", "Delete of the published post failed: %v", err)
		return
	}
	c.pass("delete", "deleted %s", c.receipt.RemoteID)
}

func randomHex() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
