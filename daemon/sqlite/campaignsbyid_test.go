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
