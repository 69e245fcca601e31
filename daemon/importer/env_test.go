package importer_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/tact-hq/tact/daemon/api"
	"github.com/tact-hq/tact/daemon/queue"
	"github.com/tact-hq/tact/daemon/sqlite"
	"github.com/tact-hq/tact/plugins/sdk"
)

// lengthValidator stands in for the plugins' Validate: it counts runes against a limit,
// which is what the outbox plugin does.
type lengthValidator struct{ max int }

func (v lengthValidator) Validate(_ context.Context, accounts []string, p sdk.Post) ([]string, error) {
	var out []string
	if n := len([]rune(p.Text)); n > v.max {
		for _, a := range accounts {
			out = append(out, a+": text is too long")
		}
	}
	return out, nil
}

// env is a real SQLite store holding some campaigns, and the API's post builder on it: the
// same builder the API's import and the web UI's upload use.
type env struct {
	db    *sqlite.DB
	camps map[string]*queue.Campaign // as stored, by name
	b     *api.PostBuilder
}

// mustEnv stores camps (in their State: archived and paused ones are changed after
// creation) and builds posts at now, in UTC for campaigns without a zone.
func mustEnv(tb testing.TB, now time.Time, camps ...*queue.Campaign) *env {
	tb.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(tb.TempDir(), "tact.db"), sqlite.WithClock(func() time.Time { return now }))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	by := queue.System("test")
	e := &env{db: db, camps: map[string]*queue.Campaign{}}
	for _, c := range camps {
		state := c.State
		if err := db.CreateCampaign(ctx, by, c); err != nil {
			tb.Fatal(err)
		}
		switch state {
		case queue.CampaignArchived:
			c.State = state
			if err := db.UpdateCampaign(ctx, by, c); err != nil {
				tb.Fatal(err)
			}
		case queue.CampaignPaused:
			if _, err := db.PauseCampaigns(ctx, []int64{c.ID}, queue.Pause{By: by, Reason: "test"}); err != nil {
				tb.Fatal(err)
			}
		}
		stored, err := db.CampaignByName(ctx, c.Name)
		if err != nil || stored.State != state {
			tb.Fatalf("campaign %s: %v, state %v want %s", c.Name, err, stored, state)
		}
		e.camps[c.Name] = stored
	}
	e.b = &api.PostBuilder{Store: db, Validator: lengthValidator{max: 50}, Now: func() time.Time { return now },
		Location: func(c *queue.Campaign) *time.Location {
			if loc, err := time.LoadLocation(c.TimeZone); err == nil && c.TimeZone != "" {
				return loc
			}
			return time.UTC
		}}
	return e
}
