package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func writeFile(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "tact.toml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadFullExample(t *testing.T) {
	t.Setenv("TACT_MASTODON_TOKEN", "s3cret")
	t.Setenv("TACT_ALERT_WEBHOOK", "https://hooks.example/x")
	p := writeFile(t, `
[daemon]
data_dir   = "/var/lib/tact"
listen     = "127.0.0.1:8080"
plugin_dir = "/usr/lib/tact/plugins"
rules      = ["/etc/tact/rules.d/*.toml"]
timezone   = "Europe/Paris"
log_level  = "info"

[[account]]
name   = "brand-mastodon"
plugin = "mastodon"
[account.settings]
server = "https://social.example"
token  = "env:TACT_MASTODON_TOKEN"

[[feed]]
name     = "world-news"
url      = "https://news.example/world/rss.xml"
every    = "2m"
language = "en"

[[notify]]
kind = "webhook"
url  = "env:TACT_ALERT_WEBHOOK"
`)
	c, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Accounts[0].Settings["token"]; got != "s3cret" {
		t.Errorf("token not resolved from env: %q", got)
	}
	if c.Notify[0].URL != "https://hooks.example/x" {
		t.Errorf("notify url not resolved: %q", c.Notify[0].URL)
	}
	if c.Feeds[0].Every.Duration != 2*time.Minute || c.Feeds[0].Timeout.Duration != DefaultFeedTimeout {
		t.Errorf("feed durations: %+v", c.Feeds[0])
	}
	if c.Accounts[0].Concurrency != 1 || c.Accounts[0].Spacing.Duration != time.Minute {
		t.Errorf("account defaults not applied: %+v", c.Accounts[0])
	}
}

func TestLoadRefusesBadInputWithLines(t *testing.T) {
	cases := []struct {
		name, body string
		want       []string
	}{
		{"unknown key", "[daemon]\nlisten_addr = \"x\"\n", []string{`tact.toml:2: unknown key "listen_addr" in [daemon]`}},
		{"unknown key in second account", "[[account]]\nname=\"a\"\nplugin=\"outbox\"\n[[account]]\nname=\"b\"\nplugn=\"outbox\"\n",
			[]string{`tact.toml:6: unknown key "plugn" in [account]`, `tact.toml:4: account "b" has no plugin`}},
		{"bad duration", "[[feed]]\nname=\"f\"\nurl=\"file:///tmp/x\"\nevery=\"2 minutes\"\n", []string{"tact.toml:4:"}},
		{"bad timezone", "[daemon]\ntimezone = \"Mars/Olympus\"\n", []string{`tact.toml:2: timezone "Mars/Olympus"`}},
		{"duplicate account", "[[account]]\nname=\"a\"\nplugin=\"outbox\"\n[[account]]\nname=\"a\"\nplugin=\"outbox\"\n", []string{`tact.toml:5: account name "a" is used twice`}},
		{"missing env secret", "[[account]]\nname=\"a\"\nplugin=\"m\"\n[account.settings]\ntoken=\"env:TACT_SURELY_UNSET_VAR\"\n", []string{"tact.toml:5:", "TACT_SURELY_UNSET_VAR is not set"}},
		{"bad toml", "[daemon\nlisten = 1\n", []string{"tact.toml:", "end table name"}},
		{"feed too fast", "[[feed]]\nname=\"f\"\nurl=\"file:///x\"\nevery=\"10ms\"\n", []string{"tact.toml:4: every of feed \"f\" must be at least 1s"}},
		{"postgres not yet", "[database]\ndriver=\"postgres\"\n", []string{"tact.toml:2:", "not available"}},
		{"media limit too large", "[daemon]\nlisten = \"127.0.0.1:1\"\nmedia_max_bytes = 1000000000\n", []string{"tact.toml:3: media_max_bytes 1000000000 in [daemon] must be between 1 and"}},
		{"media limit negative", "[daemon]\nmedia_max_bytes = -1\n", []string{"tact.toml:2: media_max_bytes -1"}},
		{"media fetch unknown", "[daemon]\nmedia_fetch = \"any\"\n", []string{`tact.toml:2: media_fetch "any" in [daemon] must be "public"`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load(writeFile(t, tc.body))
			if err == nil {
				t.Fatal("accepted a bad file")
			}
			msg := strings.ReplaceAll(err.Error(), filepath.Dir(writeFile(t, "")), "")
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q (%s)", err, w, msg)
				}
			}
		})
	}
}

func TestFeedFileURLIsKept(t *testing.T) {
	feed := filepath.Join(t.TempDir(), "news.xml")
	if err := os.WriteFile(feed, []byte("<rss></rss>"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load(writeFile(t, "[[feed]]\nname=\"local\"\nurl=\"file://"+feed+"\"\n"))
	if err != nil {
		t.Fatalf("a file:// feed was refused: %v", err)
	}
	if c.Feeds[0].URL != "file://"+feed {
		t.Errorf("feed url = %q, want the file:// URL itself (not the file's content)", c.Feeds[0].URL)
	}
}

// TestFeedURLFromSecretIsMarked: a feed URL read from env: or file: is a secret as a
// whole (its path may be a key), one written in tact.toml is not.
func TestFeedURLFromSecretIsMarked(t *testing.T) {
	t.Setenv("TACT_TEST_FEED_URL", "https://news.example/private/k3y/rss")
	ref := filepath.Join(t.TempDir(), "feed-url")
	if err := os.WriteFile(ref, []byte("https://news.example/other/k3y/rss\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load(writeFile(t, "[[feed]]\nname=\"env\"\nurl=\"env:TACT_TEST_FEED_URL\"\n"+
		"[[feed]]\nname=\"file\"\nurl=\"file:"+ref+"\"\n"+
		"[[feed]]\nname=\"inline\"\nurl=\"https://news.example/world/rss\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []bool{true, true, false} {
		if f := c.Feeds[i]; f.URLSecret != want {
			t.Errorf("feed %s (%s): URLSecret = %v, want %v", f.Name, f.URL, f.URLSecret, want)
		}
	}
}

func TestResolveFileSecret(t *testing.T) {
	p := filepath.Join(t.TempDir(), "secret")
	os.WriteFile(p, []byte("  tok\n"), 0o600)
	v, err := Resolve("file:" + p)
	if err != nil || v != "tok" {
		t.Fatalf("Resolve file: %q %v", v, err)
	}
	if _, err := Resolve("file:/nonexistent/x"); err == nil {
		t.Fatal("missing file accepted")
	}
}

func TestDefault(t *testing.T) {
	c := Default()
	if c.Daemon.Listen != DefaultListen || c.Daemon.Late.Duration != DefaultLate || c.Database.Driver != "sqlite" {
		t.Fatalf("defaults: %+v", c.Daemon)
	}
}

func TestKeysMustBeLowerCase(t *testing.T) {
	_, err := Load(writeFile(t, "[daemon]\nListen = \"127.0.0.1:1\"\n[[ACCOUNT]]\nname=\"a\"\nplugin=\"outbox\"\n[ACCOUNT.settings]\nAPIKey=\"kept\"\n"))
	if err == nil {
		t.Fatal("keys in another case were accepted")
	}
	for _, want := range []string{`tact.toml:2: key "Listen" must be written in lower case`, `key "ACCOUNT" must be written in lower case`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "APIKey") {
		t.Errorf("a plugin setting's own case was refused: %v", err)
	}
}
