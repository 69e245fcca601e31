package api_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/tact-hq/tact/daemon/queue"
)

// TestStoreAndAPIAgreeOnSchedules: a cron spec the API refuses, the store refuses too, on
// the same field with the same words, and a spec one accepts the other accepts (both ask
// daemon/cron). Before, the store parsed with robfig/cron's standard parser and took
// "@every 10s" and "0 0 30 2 *", which the scheduler then refused on every pass.
func TestStoreAndAPIAgreeOnSchedules(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	for i, c := range []struct {
		spec, tz string
		ok       bool
	}{
		{"0 9 * * MON-FRI", "Europe/Paris", true},
		{"CRON_TZ=America/New_York 30 8 * * *", "", true},
		{"TZ=UTC @daily", "", true},
		{"@every 1h", "", true},
		{"*/5 * * * *", "Asia/Tokyo", true},
		{"61 * * * *", "", false},
		{"0 9 * *", "Europe/Paris", false},
		{"@every 10s", "", false},
		{"0 0 30 2 *", "", false},
		{"CRON_TZ=Nowhere/City 0 9 * * *", "", false},
		{"CRON_TZ=Europe/Paris", "", false},
		{"@fortnightly", "", false},
	} {
		name := fmt.Sprintf("sched-%d", i)
		body := map[string]any{"name": name + "-api", "accounts": []string{"brand-bsky"}, "schedule": c.spec, "pool": []string{"tip"}}
		if c.tz != "" {
			body["timezone"] = c.tz
		}
		r := e.do(queue.RoleMarketer, "POST", "/api/v1/campaigns", body)
		storeErr := e.store.CreateCampaign(ctx, queue.System("test"), &queue.Campaign{
			Name: name + "-store", Accounts: []string{"brand-bsky"}, Schedule: c.spec, TimeZone: c.tz, Pool: []string{"tip"}})
		if c.ok {
			if r.status != 201 || storeErr != nil {
				t.Errorf("%q in %q: API %d %s, store %v; want both to accept it", c.spec, c.tz, r.status, r.raw, storeErr)
			}
			continue
		}
		if r.status != 400 || storeErr == nil {
			t.Errorf("%q: API %d %s, store %v; want both to refuse it", c.spec, r.status, r.raw, storeErr)
			continue
		}
		if r.str("field") != queue.ErrorField(storeErr) || r.str("error") != storeErr.Error() {
			t.Errorf("%q: API says %s: %q, store says %s: %q; want the same", c.spec, r.str("field"), r.str("error"), queue.ErrorField(storeErr), storeErr)
		}
	}
}
