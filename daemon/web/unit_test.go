package web_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/tact-hq/tact/daemon/queue"
	"github.com/tact-hq/tact/daemon/web"
)

func TestLength(t *testing.T) {
	long := "https://shop.example.com/spring?utm_source=mastodon&utm_campaign=spring-sale-2026"
	for _, tc := range []struct {
		text, counting string
		want           int
	}{
		{"hello", "runes", 5},
		{"héllo", "bytes", 6},
		{"héllo", "", 5},
		{"👨‍👩‍👧 family", "graphemes", 8},     // one grapheme for the family, 5 code points
		{"👨‍👩‍👧 family", "runes", 12},        // 5 + 1 + 6
		{"e\u0301", "graphemes", 1},          // e + combining accent
		{"Sale " + long, "mastodon", 5 + 23}, // a URL counts 23 whatever its length
		{"see http://a.io now", "mastodon", 4 + 23 + 4},
		{"hi @alice@example.social!", "mastodon", len("hi @alice!")}, // a remote mention counts as @user
		{"hi @alice", "mastodon", 9},
	} {
		if got := web.Length(tc.text, tc.counting); got != tc.want {
			t.Errorf("Length(%q, %q) = %d, want %d", tc.text, tc.counting, got, tc.want)
		}
	}
}

func TestParseImport(t *testing.T) {
	paris, _ := time.LoadLocation("Europe/Paris")
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	camps := map[string]*queue.Campaign{
		"spring": {ID: 1, Name: "spring", Accounts: []string{"a", "b"}, TimeZone: "Europe/Paris", State: queue.CampaignActive},
		"old":    {ID: 2, Name: "old", Accounts: []string{"a"}, State: queue.CampaignArchived},
	}
	lookup := func(_ context.Context, name string) (*queue.Campaign, error) {
		if c, ok := camps[name]; ok {
			return c, nil
		}
		return nil, queue.Errorf(queue.NotFound, "campaign", "no campaign %q", name)
	}

	t.Run("good file", func(t *testing.T) {
		in := "campaign,at,text,account\n" +
			"spring,2026-05-02 09:30,\"Hello, world\",a\n" +
			"spring,2026-05-03T10:00:00Z,\"two\nlines\",\n" +
			"spring,+2h,soon,a;b\n"
		posts, bad, err := web.ParseImport(context.Background(), strings.NewReader(in), lookup, now, time.UTC)
		if err != nil || len(bad) > 0 {
			t.Fatalf("err %v, bad %v", err, bad)
		}
		if len(posts) != 3 {
			t.Fatalf("%d posts", len(posts))
		}
		if want := time.Date(2026, 5, 2, 9, 30, 0, 0, paris); !posts[0].DueAt.Equal(want) || posts[0].Text != "Hello, world" || strings.Join(posts[0].Accounts, ",") != "a" {
			t.Errorf("row 1: %+v (local times are in the campaign's zone)", posts[0])
		}
		if posts[1].Text != "two\nlines" || strings.Join(posts[1].Accounts, ",") != "a,b" {
			t.Errorf("row 2: %+v (no account means all of the campaign's)", posts[1])
		}
		if !posts[2].DueAt.Equal(now.Add(2*time.Hour)) || posts[2].State != queue.PostPending {
			t.Errorf("row 3: %+v", posts[2])
		}
	})

	t.Run("every bad row by line, and no posts", func(t *testing.T) {
		in := "spring,2026-05-02 09:30,fine\n" + // 1
			"nope,2026-05-02 09:30,unknown campaign\n" + // 2
			"spring,yesterday,bad time\n" + // 3
			"\"spring\",2026-05-02 09:30,\"a quoted\ntext over two lines\"\n" + // 4-5: fine
			"spring,2026-04-01 09:30,in the past\n" + // 6
			"spring,2026-05-02 09:30,,a\n" + // 7: empty text
			"spring,2026-05-02 09:30,hi,c\n" + // 8: account not in campaign
			"old,2026-05-02 09:30,archived\n" + // 9
			"spring,only two\n" // 10
		posts, bad, err := web.ParseImport(context.Background(), strings.NewReader(in), lookup, now, time.UTC)
		if err != nil {
			t.Fatal(err)
		}
		if posts != nil {
			t.Fatalf("posts returned with bad rows: %d", len(posts))
		}
		want := map[int]string{2: "no campaign named", 3: "is not a time", 6: "in the past", 7: "empty", 8: "not one of campaign", 9: "archived", 10: "has 2 fields"}
		got := map[int]string{}
		for _, b := range bad {
			got[b.Line] = b.Error()
		}
		for line, w := range want {
			if !strings.Contains(got[line], w) {
				t.Errorf("line %d: got %q, want it to say %q", line, got[line], w)
			}
		}
		if len(bad) != len(want) {
			t.Errorf("bad rows %v, want exactly lines %v", got, want)
		}
	})

	t.Run("broken quoting stops with its line", func(t *testing.T) {
		in := "spring,2026-05-02 09:30,fine\nspring,2026-05-02 09:30,\"unterminated\n"
		_, bad, err := web.ParseImport(context.Background(), strings.NewReader(in), lookup, now, time.UTC)
		if err != nil || len(bad) != 1 || bad[0].Line != 2 || !strings.Contains(bad[0].Message, "not valid CSV") {
			t.Fatalf("err %v bad %v", err, bad)
		}
	})

	t.Run("empty file and bad header", func(t *testing.T) {
		_, bad, _ := web.ParseImport(context.Background(), strings.NewReader("campaign,at,text\n"), lookup, now, time.UTC)
		if len(bad) != 1 || !strings.Contains(bad[0].Message, "no posts") {
			t.Errorf("header only: %v", bad)
		}
		_, bad, _ = web.ParseImport(context.Background(), strings.NewReader("campaign,when,text\n"), lookup, now, time.UTC)
		if len(bad) != 1 || bad[0].Line != 1 || !strings.Contains(bad[0].Message, `unknown column "when"`) {
			t.Errorf("bad header: %v", bad)
		}
	})
}
