package sqlite_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/tact-hq/tact/daemon/queue"
)

func TestCampaignsByIDReadsThoseAsked(t *testing.T) {
	ctx := context.Background()
	db := MustOpen(t)
	var ids []int64
	for i := range 5 {
		c := &queue.Campaign{Name: fmt.Sprintf("c%d", i), Accounts: []string{"a"}, Topics: []string{"travel"}, TimeZone: "Asia/Tokyo"}
		if err := db.CreateCampaign(ctx, ann, c); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, c.ID)
	}
	got, err := db.CampaignsByID(ctx, []int64{ids[1], ids[3], 9999})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[ids[1]].Name != "c1" || got[ids[3]].Name != "c3" {
		t.Fatalf("got %v, want c1 and c3 only (9999 does not exist)", got)
	}
	if c := got[ids[3]]; c.TimeZone != "Asia/Tokyo" || len(c.Topics) != 1 || c.Topics[0] != "travel" {
		t.Errorf("campaign read back incompletely: %+v", c)
	}
	if none, err := db.CampaignsByID(ctx, nil); err != nil || len(none) != 0 {
		t.Errorf("no ids: %v, %v", none, err)
	}
}

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

func TestCampaignZonesReadsThoseAsked(t *testing.T) {
	ctx := context.Background()
	db := MustOpen(t)
	var ids []int64
	for i, zone := range []string{"Asia/Tokyo", "", "Europe/Paris"} {
		c := &queue.Campaign{Name: fmt.Sprintf("z%d", i), Accounts: []string{"a"}, TimeZone: zone}
		if err := db.CreateCampaign(ctx, ann, c); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, c.ID)
	}
	got, err := db.CampaignZones(ctx, []int64{ids[0], ids[1], ids[2], 9999})
	if err != nil {
		t.Fatal(err)
	}
	want := map[int64]string{ids[0]: "Asia/Tokyo", ids[1]: "", ids[2]: "Europe/Paris"}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v (9999 does not exist)", got, want)
	}
	for id, zone := range want {
		if z, ok := got[id]; !ok || z != zone {
			t.Errorf("campaign %d: zone %q (present %v), want %q", id, z, ok, zone)
		}
	}
	if none, err := db.CampaignZones(ctx, nil); err != nil || len(none) != 0 {
		t.Errorf("no ids: %v, %v", none, err)
	}
}
