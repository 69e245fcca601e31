package sqlite

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/tact-hq/tact/daemon/queue"
)

// TestSchemaMirrorsStates: the CHECK constraints accept every state the domain defines
// and nothing else, so a state added to daemon/queue without a migration fails here.
func TestSchemaMirrorsStates(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "tact.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	c := &queue.Campaign{Name: "c", Accounts: []string{"m"}}
	p := &queue.Post{Text: "x", DueAt: time.Now()}
	if err := db.CreateCampaign(ctx, queue.System("test"), c); err != nil {
		t.Fatal(err)
	}
	p.CampaignID = c.ID
	if err := db.CreatePost(ctx, queue.System("test"), p); err != nil {
		t.Fatal(err)
	}
	in, _, err := db.RecordIncident(ctx, &queue.Incident{RuleID: "r", Action: "pause", ClosesAt: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	check := func(table string, id int64, states []string) {
		t.Helper()
		for _, s := range states {
			if _, err := db.write.Exec(`UPDATE `+table+` SET state = ? WHERE id = ?`, s, id); err != nil {
				t.Errorf("%s refuses state %q that daemon/queue defines: %v", table, s, err)
			}
		}
		if _, err := db.write.Exec(`UPDATE `+table+` SET state = 'bogus' WHERE id = ?`, id); err == nil {
			t.Errorf("%s accepts an undefined state", table)
		}
	}
	var posts []string
	for _, s := range queue.PostStates {
		posts = append(posts, string(s))
	}
	check("posts", p.ID, posts)
	check("deliveries", p.Deliveries[0].ID, []string{string(queue.DeliveryWaiting), string(queue.DeliveryPublishing),
		string(queue.DeliveryPublished), string(queue.DeliveryFailed), string(queue.DeliveryUnknown)})
	check("incidents", in.ID, []string{string(queue.IncidentClosed), string(queue.IncidentResolved), string(queue.IncidentOpen)})
	if _, err := db.write.Exec(`UPDATE campaigns SET state = 'archived' WHERE id = ?`, c.ID); err != nil {
		t.Error(err)
	}
	if _, err := db.write.Exec(`UPDATE campaigns SET state = 'paused', pause = '{}' WHERE id = ?`, c.ID); err != nil {
		t.Error(err)
	}
	if _, err := db.write.Exec(`UPDATE campaigns SET state = 'paused', pause = NULL WHERE id = ?`, c.ID); err == nil {
		t.Error("a paused campaign without its pause record was accepted")
	}
	if _, err := db.write.Exec(`UPDATE campaigns SET state = 'bogus', pause = NULL WHERE id = ?`, c.ID); err == nil {
		t.Error("campaigns accept an undefined state")
	}
}
