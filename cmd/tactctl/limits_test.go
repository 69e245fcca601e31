package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tact-hq/tact/daemon/queue"
	"github.com/tact-hq/tact/daemon/sqlite"
)

// TestCampaignLimitsThroughTactctl: the daemon's refusal of a lead beyond max_lead reaches
// the person with the field, the limit and what to do; a campaign at its open-post limit
// says so in 'campaign list'.
func TestCampaignLimitsThroughTactctl(t *testing.T) {
	d := newDaemonAPI(t, sqlite.WithLimits(queue.Limits{MaxOpenPosts: 1}))
	pool := filepath.Join(t.TempDir(), "pool.txt")
	if err := os.WriteFile(pool, []byte("every minute\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	errs := d.fails(1, "campaign", "create", "runaway", "--account", "brand-bsky", "--schedule", "* * * * *", "--pool", pool, "--lead", "100000h")
	contains(t, "lead 100000h", errs, "lead 100000h is longer than the longest allowed, 2160h", "max_lead", "give a shorter lead")
	if out := d.ok("campaign", "list"); !strings.Contains(out, "no campaigns") {
		t.Fatalf("a refused campaign was created:\n%s", out)
	}

	d.ok("campaign", "create", "spring", "--account", "brand-bsky", "--timezone", "Europe/Paris")
	d.ok("post", "create", "--campaign", "spring", "--at", "+1h", "--text", "the only one")
	errs = d.fails(1, "post", "create", "--campaign", "spring", "--at", "+2h", "--text", "one too many")
	contains(t, "post beyond the limit", errs, `campaign "spring" has 1 open posts`, "max_open_posts_per_campaign")
	out := d.ok("campaign", "list")
	contains(t, "campaign list", out, "campaign spring: it has 1 open posts, the most a campaign may have")
}

// TestTactctlRefusesTextThatIsNotUTF8: a pool file saved as Windows-1252, or an argument
// typed in a Latin-1 terminal, is refused with where it is, not sent as U+FFFD.
func TestTactctlRefusesTextThatIsNotUTF8(t *testing.T) {
	d := newDaemonAPI(t)
	pool := filepath.Join(t.TempDir(), "pool.txt")
	if err := os.WriteFile(pool, []byte("# tips\nfine\nCaf\xe9 cr\xe8me\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	errs := d.fails(1, "campaign", "create", "weekly", "--account", "brand-bsky", "--schedule", "@weekly", "--pool", pool)
	contains(t, "pool file", errs, pool+":3 is not valid UTF-8 (byte 0xE9 at character 4)", "save the file")
	d.ok("campaign", "create", "spring", "--account", "brand-bsky")
	errs = d.fails(1, "post", "create", "--campaign", "spring", "--at", "+1h", "--text", "Caf\xe9")
	contains(t, "--text", errs, "text is not valid UTF-8")
	if out := d.ok("queue"); strings.Contains(out, "Caf") {
		t.Fatalf("the post was created:\n%s", out)
	}
}
