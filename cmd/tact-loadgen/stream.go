package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/tact-hq/tact/daemon/queue"
	"github.com/tact-hq/tact/daemon/sqlite"
)

// A stream is the posts that fall due while the daemon runs: for each account, one warm-up
// post (its first publish starts the account's plugin process, which is not what lateness
// measures) and then one post every Interval, the accounts evenly staggered, so that the
// publisher has work every few milliseconds and no post waits for its account's spacing.
type stream struct {
	Start    time.Time     // first warm-up post
	Warmup   time.Duration // warm-ups spread over this long
	Measured time.Time     // first measured post
	Interval time.Duration
	Rounds   int

	due map[string]time.Time // idempotency key -> due time, measured posts only
}

// End is when the last measured post is due.
func (s *stream) End() time.Time { return s.Measured.Add(time.Duration(s.Rounds) * s.Interval) }

// create stores the stream's posts in the database at dbPath, approved, before the daemon
// starts (through the same store the daemon uses, one approval per post as a person gives it).
func (s *stream) create(ctx context.Context, dbPath string, accounts []string) error {
	db, err := sqlite.Open(ctx, dbPath)
	if err != nil {
		return err
	}
	defer db.Close()
	cid, err := streamCampaignID(ctx, db, accounts)
	if err != nil {
		return err
	}
	var ps, measured []*queue.Post
	for i, a := range accounts {
		at := s.Start.Add(s.Warmup * time.Duration(i) / time.Duration(len(accounts)))
		ps = append(ps, &queue.Post{CampaignID: cid, Accounts: []string{a}, DueAt: at.UTC(),
			Text: fmt.Sprintf("Warm-up for %s: the account's plugin process starts here.", a)})
	}
	for r := range s.Rounds {
		for i, a := range accounts {
			at := s.Measured.Add(time.Duration(r)*s.Interval + s.Interval*time.Duration(i)/time.Duration(len(accounts)))
			p := &queue.Post{CampaignID: cid, Accounts: []string{a}, DueAt: at.UTC(),
				Text: fmt.Sprintf("Announcement %d for %s, due %s.", r, a, at.UTC().Format(time.RFC3339Nano))}
			ps = append(ps, p)
			measured = append(measured, p)
		}
	}
	by := queue.Actor{Kind: queue.ActorUser, Name: "loadgen"}
	if err := db.CreatePosts(ctx, by, ps); err != nil {
		return err
	}
	for _, p := range ps {
		if _, err := db.Apply(ctx, by, p.ID, 0, queue.EventApprove, ""); err != nil {
			return fmt.Errorf("approve stream post %d: %w", p.ID, err)
		}
	}
	s.due = map[string]time.Time{}
	for _, p := range measured {
		s.due[p.Deliveries[0].IdempotencyKey] = p.DueAt
	}
	return nil
}

// published reads the outbox files in dir and returns the publish time of every line, by
// idempotency key.
func published(dir string) (map[string]time.Time, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.jsonl"))
	if err != nil {
		return nil, err
	}
	out := map[string]time.Time{}
	for _, f := range files {
		if err := readOutbox(f, out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func readOutbox(path string, out map[string]time.Time) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var rec struct {
			Key         string    `json:"idempotency_key"`
			PublishedAt time.Time `json:"published_at"`
		}
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		if rec.Key != "" {
			out[rec.Key] = rec.PublishedAt
		}
	}
	return sc.Err()
}

// lateness pairs the measured posts with their outbox lines: how long after its due time
// each one was written by the plugin, and how many are missing.
func (s *stream) lateness(outboxDir string) (late []time.Duration, missing int, err error) {
	pub, err := published(outboxDir)
	if err != nil {
		return nil, 0, err
	}
	for key, due := range s.due {
		at, ok := pub[key]
		if !ok {
			missing++
			continue
		}
		late = append(late, at.Sub(due))
	}
	return late, missing, nil
}

// pending counts the measured posts not yet in the outbox.
func (s *stream) pending(outboxDir string) int {
	_, missing, err := s.lateness(outboxDir)
	if err != nil {
		return len(s.due)
	}
	return missing
}
