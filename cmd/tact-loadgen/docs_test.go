package main

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tact-hq/tact/daemon/metrics"
	"github.com/tact-hq/tact/daemon/queue"
	"github.com/tact-hq/tact/daemon/sqlite"
)

// exportedMetrics returns the names of every tact_* metric family the daemon's registry
// exposes once each instrument has seen a value.
func exportedMetrics(t *testing.T) map[string]bool {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "tact.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.SetAccountStatus(ctx, queue.AccountStatus{Account: "a", Healthy: true, UpdatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	m := metrics.New(metrics.Sources{Store: db,
		Feeds: func() []metrics.FeedStat { return []metrics.FeedStat{{Name: "f", Polls: 1, LastOK: time.Now()}} },
		Rules: func() metrics.RulesStat { return metrics.RulesStat{Loaded: 1, LastReloadOK: true} },
	}, nil)
	m.PublishDone("a", time.Millisecond, time.Millisecond, "published")
	m.ObservePluginCall("a", "Publish", time.Millisecond, nil)
	fams, err := m.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, f := range fams {
		if strings.HasPrefix(f.GetName(), "tact_") {
			out[f.GetName()] = true
		}
	}
	if len(out) < 10 {
		t.Fatalf("only %d tact metrics gathered: %v", len(out), out)
	}
	return out
}

// The operations guide documents every metric, and the alerting rules name only metrics
// that exist: a renamed metric must not silently disable an alert.
func TestOperationsDocsMatchTheMetrics(t *testing.T) {
	names := exportedMetrics(t)
	guide, err := os.ReadFile(filepath.Join("..", "..", "docs", "operations.md"))
	if err != nil {
		t.Fatal(err)
	}
	for n := range names {
		if !strings.Contains(string(guide), "`"+n+"`") {
			t.Errorf("docs/operations.md does not document the metric %s", n)
		}
	}
	alerts, err := os.ReadFile(filepath.Join("..", "..", "docs", "tact-alerts.yml"))
	if err != nil {
		t.Fatal(err)
	}
	used := regexp.MustCompile(`\btact_[a-z_]+`).FindAllString(string(alerts), -1)
	if len(used) < 5 {
		t.Fatalf("the alert rules name only %v", used)
	}
	for _, u := range used {
		base := u
		for _, suf := range []string{"_bucket", "_sum", "_count"} {
			base = strings.TrimSuffix(base, suf)
		}
		if !names[base] {
			t.Errorf("docs/tact-alerts.yml uses %s, which the daemon does not export", u)
		}
	}
	if !strings.Contains(string(guide), strings.TrimSpace(string(alerts[strings.Index(string(alerts), "groups:"):]))) {
		t.Error("the alerting rules in docs/operations.md and docs/tact-alerts.yml differ")
	}
}
