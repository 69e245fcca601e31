package desk_test

import (
	"context"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tact-hq/tact/daemon/desk"
	"github.com/tact-hq/tact/daemon/queue"
	"github.com/tact-hq/tact/daemon/sqlite"
)

type countingWaker struct{ n atomic.Int32 }

func (w *countingWaker) Kick() { w.n.Add(1) }

var person = queue.Actor{Kind: queue.ActorUser, Name: "mia"}

func newPost(t *testing.T) (*desk.Desk, *countingWaker, *queue.Post) {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "tact.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	c := &queue.Campaign{Name: "spring", Accounts: []string{"brand"}}
	if err := db.CreateCampaign(ctx, person, c); err != nil {
		t.Fatal(err)
	}
	p := &queue.Post{CampaignID: c.ID, Text: "hello", DueAt: time.Now().Add(time.Hour)}
	if err := db.CreatePost(ctx, person, p); err != nil {
		t.Fatal(err)
	}
	w := &countingWaker{}
	return desk.New(db, w), w, p
}

func TestApproveWakesThePublisher(t *testing.T) {
	d, w, p := newPost(t)
	got, err := d.Apply(context.Background(), person, p.ID, p.Version, queue.EventApprove, "")
	if err != nil {
		t.Fatal(err)
	}
	if got.State != queue.PostApproved || got.ApprovedBy != "user:mia" {
		t.Errorf("approved post: state %s, approved by %q; want approved by user:mia", got.State, got.ApprovedBy)
	}
	if w.n.Load() != 1 {
		t.Errorf("the publisher was woken %d times, want once", w.n.Load())
	}
}

func TestHoldDoesNotWake(t *testing.T) {
	d, w, p := newPost(t)
	if _, err := d.Apply(context.Background(), person, p.ID, 0, queue.EventHold, "check the news"); err != nil {
		t.Fatal(err)
	}
	if w.n.Load() != 0 {
		t.Errorf("a hold woke the publisher %d times; nothing can be due after a hold", w.n.Load())
	}
}

func TestRejectNeedsAReasonAndChangesNothing(t *testing.T) {
	d, _, p := newPost(t)
	_, err := d.Apply(context.Background(), person, p.ID, 0, queue.EventReject, "")
	if queue.ErrorKind(err) != queue.Invalid || queue.ErrorField(err) != "reason" {
		t.Fatalf("reject without a reason: %v; want an invalid reason", err)
	}
	got, err := d.Store.Post(context.Background(), p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.State != queue.PostPending || got.Version != p.Version {
		t.Errorf("after a refused reject the post is %s at version %d; want pending at %d", got.State, got.Version, p.Version)
	}
}
