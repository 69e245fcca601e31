package sqlite

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tact-hq/tact/daemon/queue"
)

// TestQueryPlans guards SPEC 9 (100,000 queued posts): the queries that run on every
// publisher loop and every page of the queue walk an index in order instead of sorting the
// queue or scanning all of it.
func TestQueryPlans(t *testing.T) {
	db, err := Open(context.Background(), filepath.Join(t.TempDir(), "tact.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	now := int64(1)
	page := func(f queue.PostFilter) (string, []any) {
		q, args, _, err := postsQuery(f)
		if err != nil {
			t.Fatal(err)
		}
		return q, args
	}
	cursor := encodeCursor(&queue.Post{ID: 7, DueAt: time.Unix(100, 0)})
	type query struct {
		name string
		q    string
		args []any
	}
	qs := []query{
		{"claim candidates", qClaimCandidates, []any{now, now, 0, 0, 0, claimPage}},
		{"next wake", qWakeDeliveries, nil},
		{"next wake autopilot", qWakeAutopilot, nil},
		{"next wake recurring", qWakeRecurring, []any{1}},
		{"scan open posts", qScanOpen, []any{0, scanBatch}},
		{"auto-approve", qAutoApprove, []any{now, now}},
		{"missed", qMissed, []any{"pending", now, now, true}},
	}
	for _, f := range []queue.PostFilter{
		{States: []queue.PostState{queue.PostPending}},
		{States: []queue.PostState{queue.PostPending}, Cursor: cursor},
		{},
		{Cursor: cursor},
		{CampaignID: 3, States: []queue.PostState{queue.PostPending}, Cursor: cursor},
	} {
		q, args := page(f)
		qs = append(qs, query{"posts " + q[strings.Index(q, "WHERE"):], q, args})
	}
	for _, tc := range qs {
		text := explain(t, db, tc.q, tc.args...)
		t.Logf("%s:\n%s", tc.name, text)
		if strings.Contains(text, "TEMP B-TREE FOR ORDER BY") || strings.Contains(text, "SCAN p\n") || strings.HasSuffix(text, "SCAN p") {
			t.Errorf("%s sorts or scans the whole queue:\n%s", tc.name, text)
		}
		// A campaign's queue and the autopilot wake walk that campaign's posts only.
		if (tc.name == "next wake autopilot" || strings.Contains(tc.name, "p.campaign_id = ?")) && !strings.Contains(text, "posts_campaign_state_due (campaign_id=? AND state=?") {
			t.Errorf("%s does not walk the campaign's posts through posts_campaign_state_due:\n%s", tc.name, text)
		}
	}

	// Counting a campaign's open posts (the open-post limit) reads its index ranges only.
	for _, q := range []struct {
		q    string
		args []any
	}{{qOpenPosts, []any{1}}, {openCountsQuery(2), []any{1, 2}}} {
		if text := explain(t, db, q.q, q.args...); !strings.Contains(text, "COVERING INDEX posts_campaign_state_due (campaign_id=? AND state=?)") {
			t.Errorf("counting open posts does not read posts_campaign_state_due's ranges:\n%s", text)
		}
	}

	// The deliveries of a page come from their covering index, one range per post.
	if text := explain(t, db, deliveriesQuery(3), 1, 2, 3); !strings.Contains(text, "COVERING INDEX deliveries_post") || strings.Contains(text, "TEMP B-TREE") {
		t.Errorf("a page's deliveries do not come from deliveries_post in order:\n%s", text)
	}
}

// explain returns SQLite's query plan for q, one step per line.
func explain(t *testing.T, db *DB, q string, args ...any) string {
	t.Helper()
	rows, err := db.read.Query(`EXPLAIN QUERY PLAN `+q, args...)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var (
			id, parent, unused int
			detail             string
		)
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	return strings.Join(plan, "\n")
}
