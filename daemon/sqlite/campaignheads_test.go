package sqlite_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/tact-hq/tact/daemon/queue"
)

func TestCampaignsRecurringFilter(t *testing.T) {
	ctx := context.Background()
	db := MustOpen(t)
	for _, c := range []*queue.Campaign{
		{Name: "one-off", Accounts: []string{"a"}},
		{Name: "weekly", Accounts: []string{"a"}, Schedule: "0 9 * * 1", Pool: []string{"Monday news"}},
	} {
		if err := db.CreateCampaign(ctx, ann, c); err != nil {
			t.Fatal(err)
		}
	}
	got, err := db.Campaigns(ctx, queue.CampaignFilter{State: queue.CampaignActive, Recurring: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Name != "weekly" {
		t.Fatalf("recurring campaigns: %v, want only weekly", got)
	}
	all, err := db.Campaigns(ctx, queue.CampaignFilter{})
	if err != nil || len(all) != 2 {
		t.Fatalf("all campaigns: %d, %v", len(all), err)
	}
}

func TestCampaignHeadsReadThoseAsked(t *testing.T) {
	ctx := context.Background()
	db := MustOpen(t)
	var ids []int64
	for i, zone := range []string{"Asia/Tokyo", "", "Europe/Paris"} {
		c := &queue.Campaign{Name: fmt.Sprintf("z%d", i), Accounts: []string{"a"}, TimeZone: zone,
			Topics: []string{fmt.Sprintf("topic-%d", i), "travel"}, Pool: []string{"a pool text"}}
		if err := db.CreateCampaign(ctx, ann, c); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, c.ID)
	}
	got, err := db.CampaignHeads(ctx, []int64{ids[0], ids[1], ids[2], 9999})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 {
		t.Fatalf("got %v, want 3 heads (9999 does not exist)", got)
	}
	for i, zone := range []string{"Asia/Tokyo", "", "Europe/Paris"} {
		h, ok := got[ids[i]]
		if !ok || h.ID != ids[i] || h.TimeZone != zone || len(h.Topics) != 2 || h.Topics[0] != fmt.Sprintf("topic-%d", i) || h.Topics[1] != "travel" {
			t.Errorf("campaign %d: head %+v (present %v), want zone %q and topics [topic-%d travel]", ids[i], h, ok, zone, i)
		}
	}
	if none, err := db.CampaignHeads(ctx, nil); err != nil || len(none) != 0 {
		t.Errorf("no ids: %v, %v", none, err)
	}
}
