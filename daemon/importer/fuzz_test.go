package importer_test

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/tact-hq/tact/daemon/queue"
)

// FuzzCSVImport runs the bulk import (the importer with the API's post builder on a real
// SQLite store, as the API and the web UI run it) on arbitrary files. It must never panic;
// it imports all rows or none; every accepted post is valid (a known campaign that is not
// archived, a text, a due time not before now, accounts of its campaign, each once); every
// refused row names a line of the file.
func FuzzCSVImport(f *testing.F) {
	f.Add([]byte("spring,2030-05-01 09:00,Tulips are in,brand\nspring,+2h,\"Quoted, with comma\"\n"))
	f.Add([]byte("campaign,at,text,account,link,draft\nspring,+1h,Hello,brand;other,https://x.test/a,true\n"))
	f.Add([]byte("text,at,campaign\nHi,2030-01-01T10:00:00+02:00,flights\n"))
	f.Add([]byte("spring,yesterday,,nobody\nunknown,+1h,x\n\"broken,+1h,x\n"))
	f.Add([]byte("archived,+1h,Too late\n"))
	// Text saved in another encoding than UTF-8 (Windows-1252, a broken sequence, a lone
	// continuation byte), in each column.
	f.Add([]byte("spring,+1h,Caf\xe9 cr\xe8me\n"))
	f.Add([]byte("campaign,at,text,account\nspring,+1h,\"\xf0\x9f\x98\",brand\nspr\x80ing,+1h,x\n"))
	f.Add([]byte("spring,+1h\xc3,x,br\xffand\n"))
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	e := mustEnv(f, now,
		&queue.Campaign{Name: "spring", Accounts: []string{"brand", "other"}, State: queue.CampaignActive},
		&queue.Campaign{Name: "flights", Accounts: []string{"brand"}, TimeZone: "Europe/Paris", State: queue.CampaignPaused},
		&queue.Campaign{Name: "archived", Accounts: []string{"brand"}, State: queue.CampaignArchived})
	byID := map[int64]*queue.Campaign{}
	for _, c := range e.camps {
		byID[c.ID] = c
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		res, err := e.b.ImportCSV(context.Background(), bytes.NewReader(data))
		if err != nil {
			t.Fatalf("the import failed on input it could read: %v", err)
		}
		posts, bad := res.Posts, res.Problems
		if len(bad) > 0 && posts != nil {
			t.Fatalf("%d bad rows, yet %d posts returned: the import must be all or nothing", len(bad), len(posts))
		}
		lines := bytes.Count(data, []byte("\n")) + 1
		for _, b := range bad {
			if b.Message == "" {
				t.Fatalf("a bad row without a message: %+v", b)
			}
			if b.Line == 0 && !strings.Contains(b.Message, "no posts") {
				t.Fatalf("an error with no line: %+v", b)
			}
			if b.Line < 0 || b.Line > lines {
				t.Fatalf("error %q is on line %d of a %d-line file", b.Error(), b.Line, lines)
			}
		}
		if len(bad) == 0 && len(posts) == 0 {
			t.Fatalf("no posts and no errors for %q", data)
		}
		for _, p := range posts {
			c := byID[p.CampaignID]
			switch {
			case c == nil || c.Name != p.Campaign || c.State == queue.CampaignArchived:
				t.Fatalf("accepted post for campaign %q (%d)", p.Campaign, p.CampaignID)
			case strings.TrimSpace(p.Text) == "":
				t.Fatalf("accepted post with no text: %+v", p)
			case !utf8.ValidString(p.Text) || !utf8.ValidString(p.Link) || !utf8.ValidString(strings.Join(p.Accounts, "")):
				t.Fatalf("accepted post with text that is not UTF-8 (a plugin call would fail): %q", p.Text)
			case p.DueAt.Before(now) || p.DueAt.Location() != time.UTC:
				t.Fatalf("accepted post due %s (now %s)", p.DueAt, now)
			case p.State != queue.PostPending && p.State != queue.PostDraft:
				t.Fatalf("accepted post in state %s", p.State)
			case len(p.Accounts) == 0:
				t.Fatalf("accepted post with no account: %+v", p)
			}
			seen := map[string]bool{}
			for _, a := range p.Accounts {
				if !slices.Contains(c.Accounts, a) || seen[a] {
					t.Fatalf("accepted post with account %q (campaign has %v, post has %v)", a, c.Accounts, p.Accounts)
				}
				seen[a] = true
			}
		}
	})
}
