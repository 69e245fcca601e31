package sqlite

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tact-hq/tact/daemon/queue"
)

// TestFullIsUnavailable: when the database cannot grow (a full disk; here, a page limit on
// the writer connection), a write fails as Unavailable with what to do, stores nothing, and
// the store works again once there is room.
func TestFullIsUnavailable(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "tact.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	by := queue.System("test")
	c := &queue.Campaign{Name: "c", Accounts: []string{"m"}}
	if err := db.CreateCampaign(ctx, by, c); err != nil {
		t.Fatal(err)
	}
	var pages int
	if err := db.write.QueryRow(`PRAGMA page_count`).Scan(&pages); err != nil {
		t.Fatal(err)
	}
	if _, err := db.write.Exec(fmt.Sprintf(`PRAGMA max_page_count = %d`, pages+2)); err != nil {
		t.Fatal(err)
	}
	var ps []*queue.Post
	for i := range 2000 {
		ps = append(ps, &queue.Post{CampaignID: c.ID, Text: strings.Repeat("long text ", 50) + fmt.Sprint(i), DueAt: time.Now()})
	}
	err = db.CreatePosts(ctx, by, ps)
	if queue.ErrorKind(err) != queue.Unavailable || !strings.Contains(err.Error(), "full") || !strings.Contains(err.Error(), "free space") {
		t.Fatalf("write to a full database: %v (kind %q)", err, queue.ErrorKind(err))
	}
	counts, err := db.CountPosts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if counts[queue.PostPending] != 0 {
		t.Fatalf("a failed import left %d posts", counts[queue.PostPending])
	}
	if _, err := db.write.Exec(`PRAGMA max_page_count = 1073741823`); err != nil {
		t.Fatal(err)
	}
	if err := db.CreatePosts(ctx, by, ps); err != nil {
		t.Fatalf("after making room: %v", err)
	}
}
