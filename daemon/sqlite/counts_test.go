package sqlite

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/tact-hq/tact/daemon/queue"
)

// TestPostCountsFollowEveryWrite: the trigger-kept counts equal a full count of the posts
// after creates, moves through the state machine, claims, finishes and deletes.
func TestPostCountsFollowEveryWrite(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "tact.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	by := queue.System("test")
	c := &queue.Campaign{Name: "c", Accounts: []string{"m", "b"}}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(db.CreateCampaign(ctx, by, c))
	var ps []*queue.Post
	for i := range 40 {
		ps = append(ps, &queue.Post{CampaignID: c.ID, Text: "x", DueAt: time.Now().Add(time.Duration(i-45) * time.Minute)})
	}
	must(db.CreatePosts(ctx, by, ps))
	for i, p := range ps {
		switch i % 5 {
		case 0:
			_, err = db.Apply(ctx, by, p.ID, 0, queue.EventApprove, "")
		case 1:
			_, err = db.Apply(ctx, by, p.ID, 0, queue.EventReject, "no")
		case 2:
			err = db.DeletePost(ctx, by, p.ID, 0)
		case 3:
			_, err = db.Apply(ctx, by, p.ID, 0, queue.EventHold, "wait")
		}
		must(err)
	}
	cs, err := db.ClaimDue(ctx, queue.ClaimRequest{Now: time.Now(), Limit: 100, Limits: map[string]queue.AccountLimit{"m": {Concurrency: 100, Spacing: -1}, "b": {Concurrency: 100, Spacing: -1}}})
	must(err)
	for i, cl := range cs {
		o := queue.Outcome{State: queue.DeliveryPublished, RemoteID: "r"}
		if i%3 == 0 {
			o = queue.Outcome{State: queue.DeliveryFailed, Error: "x"}
		}
		must(db.Finish(ctx, cl.Delivery.ID, o))
	}
	_, err = db.MarkMissed(ctx, time.Now())
	must(err)
	got, err := db.CountPosts(ctx)
	must(err)
	rows, err := db.read.Query(`SELECT state, COUNT(*) FROM posts GROUP BY state`)
	must(err)
	defer rows.Close()
	want := map[queue.PostState]int{}
	for rows.Next() {
		var (
			s string
			n int
		)
		must(rows.Scan(&s, &n))
		want[queue.PostState(s)] = n
	}
	for _, s := range queue.PostStates {
		if got[s] != want[s] {
			t.Errorf("%s: counted %d, there are %d", s, got[s], want[s])
		}
	}
	if len(cs) == 0 || want[queue.PostMissed] == 0 || want[queue.PostPublished]+want[queue.PostFailed] == 0 {
		t.Fatalf("the scenario did not reach the states it means to count: %v (claims %d)", want, len(cs))
	}
}
