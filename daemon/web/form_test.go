package web_test

import (
	"bytes"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/tact-hq/tact/daemon/queue"
)

// TestFormTextThatIsNotUTF8 is issue 10's "invalid UTF-8 in web forms gets 503 try again":
// a form field holding text in another encoding is refused with a 400 naming the field
// (and, for several lines, the line), and nothing changes; an uploaded CSV file is refused
// by line and column like the API's import.
func TestFormTextThatIsNotUTF8(t *testing.T) {
	f := mustFixture(t)
	c := f.client()
	c.login(f.tokens[queue.RoleAdmin])
	p := f.posts["colours"]
	before := f.countPosts()

	for _, tc := range []struct {
		name, path string
		form       url.Values
		want       []string
	}{
		{"edited text", fmt.Sprintf("/posts/%d/edit", p.ID),
			url.Values{"version": {fmt.Sprint(p.Version)}, "text": {"Caf\xe9 au lait"}}, []string{"text is not valid UTF-8 (byte 0xE9 at character 4)"}},
		{"pasted CSV", "/import",
			url.Values{"csv": {"spring-sale,+1h,fine\nspring-sale,+2h,cr\xe8me\n"}}, []string{"csv is not valid UTF-8 (byte 0xE8 at line 2, character 19)"}},
		{"incident note", "/incidents/declare",
			url.Values{"rule": {"air-disaster"}, "note": {"\xff"}}, []string{"note is not valid UTF-8"}},
		{"pause reason", fmt.Sprintf("/campaigns/%d/pause", f.spring.ID),
			url.Values{"reason": {"br\xfbl\xe9e"}}, []string{"reason is not valid UTF-8"}},
	} {
		tc.form.Set("csrf", c.csrf("/"))
		resp, body := c.do("POST", tc.path, tc.form)
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("%s: %d, want 400\n%s", tc.name, resp.StatusCode, body)
			continue
		}
		for _, w := range append(tc.want, "save the file or text as UTF-8", "Nothing was changed") {
			if !strings.Contains(body, htmlEscape(w)) {
				t.Errorf("%s: the page does not say %q:\n%s", tc.name, w, body)
			}
		}
	}
	if got := f.get(p.ID); got.Text != p.Text || got.Version != p.Version {
		t.Errorf("a refused edit changed the post: %q v%d", got.Text, got.Version)
	}
	if got, err := f.store.Campaign(f.ctx, f.spring.ID); err != nil || got.State != queue.CampaignActive {
		t.Errorf("a refused pause paused the campaign: %v %v", got.State, err)
	}

	// An uploaded file goes through the importer: line and column.
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	mw.WriteField("csrf", c.csrf("/import"))
	fw, _ := mw.CreateFormFile("file", "posts.csv")
	io.WriteString(fw, "campaign,at,text\nspring-sale,+1h,fine\nspring-sale,+2h,Caf\xe9\n")
	mw.Close()
	req, _ := http.NewRequest("POST", f.srv.URL+"/import", &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, err := c.hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(b), "Line 3, text") || !strings.Contains(string(b), htmlEscape("text is not valid UTF-8 (byte 0xE9 at character 4)")) {
		t.Errorf("uploaded file: %d\n%s", resp.StatusCode, b)
	}
	if n := f.countPosts(); n != before {
		t.Fatalf("%d posts, want %d: refused forms stored posts", n, before)
	}
}

func htmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&#34;", "'", "&#39;").Replace(s)
}

// TestCampaignAtItsOpenPostLimitSaysSo: the campaigns page shows why a campaign is held
// back ([daemon] max_open_posts_per_campaign), as the API's "problem" does.
func TestCampaignAtItsOpenPostLimitSaysSo(t *testing.T) {
	f := mustFixture(t)
	due := f.get(f.posts["colours"].ID).DueAt
	var fill []*queue.Post
	for range queue.DefaultMaxOpenPosts - 6 { // the fixture's spring-sale has 6 posts
		fill = append(fill, &queue.Post{CampaignID: f.spring.ID, Text: "filler", DueAt: due})
	}
	if err := f.store.CreatePosts(f.ctx, queue.System("test"), fill); err != nil {
		t.Fatal(err)
	}
	c := f.client()
	c.login(f.tokens[queue.RoleViewer])
	_, page := c.do("GET", "/campaigns", nil)
	if !strings.Contains(page, "it has 10000 open posts, the most a campaign may have") {
		t.Fatalf("the campaigns page does not say that spring-sale is at its limit:\n%s", page)
	}
}
