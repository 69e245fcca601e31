package importer_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tact-hq/tact/daemon/importer"
	"github.com/tact-hq/tact/daemon/queue"
)

func TestImport(t *testing.T) {
	paris, _ := time.LoadLocation("Europe/Paris")
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	e := mustEnv(t, now,
		&queue.Campaign{Name: "spring", Accounts: []string{"a", "b"}, TimeZone: "Europe/Paris", State: queue.CampaignActive},
		&queue.Campaign{Name: "old", Accounts: []string{"a"}, State: queue.CampaignArchived})
	imp := func(in string) ([]*queue.Post, []importer.Problem, error) {
		res, err := e.b.ImportCSV(context.Background(), strings.NewReader(in))
		return res.Posts, res.Problems, err
	}

	t.Run("good file", func(t *testing.T) {
		in := "campaign,at,text,account\n" +
			"spring,2026-05-02 09:30,\"Hello, world\",a\n" +
			"spring,2026-05-03T10:00:00Z,\"two\nlines\",\n" +
			"spring,+2h,soon,a;b\n"
		posts, bad, err := imp(in)
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
		posts, bad, err := imp(in)
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
		_, bad, err := imp(in)
		if err != nil || len(bad) != 1 || bad[0].Line != 2 || !strings.Contains(bad[0].Message, "not valid CSV") {
			t.Fatalf("err %v bad %v", err, bad)
		}
	})

	t.Run("empty file and bad header", func(t *testing.T) {
		_, bad, _ := imp("campaign,at,text\n")
		if len(bad) != 1 || !strings.Contains(bad[0].Message, "no posts") {
			t.Errorf("header only: %v", bad)
		}
		_, bad, _ = imp("campaign,when,text\n")
		if len(bad) != 1 || bad[0].Line != 1 || !strings.Contains(bad[0].Message, `unknown column "when"`) {
			t.Errorf("bad header: %v", bad)
		}
	})

	// What only one of the two former parsers accepted is accepted by the one importer.
	t.Run("the union of what the API and the web UI accepted", func(t *testing.T) {
		id := e.camps["spring"].ID
		in := "campaign, text, at, accounts, link, draft\n" +
			"spring, \"Quoted after a space, with a comma\", 2026-05-02T09:30:05.5+02:00, a\tb, https://shop.example/linen, yes\n" + // space before a quote, fractional seconds, tab between accounts
			strconv.FormatInt(id, 10) + ",By id,+0s,b|a,,no\n" // a campaign by its id; due exactly now
		posts, bad, err := imp(in)
		if err != nil || len(bad) > 0 {
			t.Fatalf("err %v, bad %v", err, bad)
		}
		p := posts[0]
		if p.Text != "Quoted after a space, with a comma" || strings.Join(p.Accounts, ",") != "a,b" || p.Link != "https://shop.example/linen" ||
			p.State != queue.PostDraft || !p.DueAt.Equal(time.Date(2026, 5, 2, 7, 30, 5, 5e8, time.UTC)) {
			t.Errorf("row 2: %+v", p)
		}
		if p := posts[1]; p.Campaign != "spring" || p.CampaignID != id || !p.DueAt.Equal(now) || strings.Join(p.Accounts, ",") != "b,a" || p.State != queue.PostPending {
			t.Errorf("row 3: %+v", p)
		}
	})

	t.Run("per-row checks of the link, the draft flag, accounts named twice", func(t *testing.T) {
		in := "campaign,at,text,account,link,draft\n" +
			"spring,+1h,x,,ftp://files.example/a,\n" + // 2
			"spring,+1h,x,,,perhaps\n" + // 3
			"spring,+1h,x,a;a\n" + // 4
			"spring,+1h,x,a,https://ok.example,false,extra\n" // 5
		_, bad, err := imp(in)
		if err != nil {
			t.Fatal(err)
		}
		want := []importer.Problem{
			{Line: 2, Field: "link", Message: "absolute http(s) URL"},
			{Line: 3, Field: "draft", Message: "true or false"},
			{Line: 4, Field: "accounts", Message: "named twice"},
			{Line: 5, Field: "", Message: "has 7 fields; expected 3 to 6"},
		}
		if len(bad) != len(want) {
			t.Fatalf("problems %v, want %v", bad, want)
		}
		for i, w := range want {
			if b := bad[i]; b.Line != w.Line || b.Field != w.Field || !strings.Contains(b.Message, w.Message) {
				t.Errorf("problem %d: %+v, want line %d field %q saying %q", i, b, w.Line, w.Field, w.Message)
			}
		}
	})

	t.Run("the networks' problems stay on the post, as for a single post", func(t *testing.T) {
		posts, bad, err := imp("spring,+1h," + strings.Repeat("long ", 20) + ",a\n")
		if err != nil || len(bad) > 0 || len(posts) != 1 {
			t.Fatalf("err %v bad %v posts %d", err, bad, len(posts))
		}
		if strings.Join(posts[0].Problems, ";") != "a: text is too long" {
			t.Errorf("problems %q", posts[0].Problems)
		}
	})

	// A file saved as Windows-1252 (é is the byte 0xE9) would pass as text and fail at
	// every plugin call (protobuf strings are UTF-8): it is refused by line and column.
	t.Run("text that is not UTF-8, by line and column", func(t *testing.T) {
		in := "campaign,at,text,account\n" +
			"spring,+1h,fine,a\n" + // 2
			"spring,+1h,Caf\xe9 cr\xe8me,a\n" + // 3
			"spring,+1h,\"two\nlines \xff\",a\n" + // 4-5
			"spring,+1h,ok,\xe9a\n" // 6
		posts, bad, err := imp(in)
		if err != nil || posts != nil {
			t.Fatalf("err %v, %d posts", err, len(posts))
		}
		want := []importer.Problem{
			{Line: 3, Field: "text", Message: "text is not valid UTF-8 (byte 0xE9 at character 4)"},
			{Line: 4, Field: "text", Message: "byte 0xFF at line 2, character 7"},
			{Line: 6, Field: "accounts", Message: "accounts is not valid UTF-8"},
		}
		if len(bad) != len(want) {
			t.Fatalf("problems %v, want %v", bad, want)
		}
		for i, w := range want {
			if b := bad[i]; b.Line != w.Line || b.Field != w.Field || !strings.Contains(b.Message, w.Message) || !strings.Contains(b.Message, "save the file") {
				t.Errorf("problem %d: %+v, want line %d field %q saying %q and what to do", i, b, w.Line, w.Field, w.Message)
			}
		}
	})

	t.Run("too many rows", func(t *testing.T) {
		var b strings.Builder
		for range importer.MaxRows + 1 {
			b.WriteString("spring,+1h,x\n")
		}
		posts, bad, err := imp(b.String())
		if err != nil || posts != nil || len(bad) != 1 || bad[0].Line != importer.MaxRows+1 || !strings.Contains(bad[0].Message, "split it") {
			t.Fatalf("err %v posts %d bad %v", err, len(posts), bad)
		}
	})
}
