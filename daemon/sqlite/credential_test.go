package sqlite

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
)

// The accounts page reads each account's last publish and last error through the
// indexes of migration 0006, never by scanning the deliveries.
func TestAccountActivityPlans(t *testing.T) {
	db, err := Open(context.Background(), filepath.Join(t.TempDir(), "tact.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for q, index := range map[string]string{qLastPublished: "deliveries_account_published", qLastError: "deliveries_account_errors"} {
		plan := explain(t, db, q, "acct")
		if !strings.Contains(plan, index) || strings.Contains(plan, "SCAN deliveries ") || strings.Contains(plan, "TEMP B-TREE") {
			t.Errorf("%s\nplan:\n%s\nwant a search of %s", q, plan, index)
		}
	}
}
