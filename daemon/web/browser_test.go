package web_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/tact-hq/tact/daemon/queue"
	"github.com/tact-hq/tact/daemon/web"
)

// The browser tests drive the UI in real headless Chromium: one browser for the whole
// test, one isolated browser context (own cookies) per person. They wait on conditions in
// the page, never on the clock; every wait has a deadline.

const stepTimeout = 20 * time.Second

func chromiumPath() string {
	for _, p := range []string{os.Getenv("TACT_CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"} {
		if p == "" {
			continue
		}
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "headless-shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// mustBrowser starts headless Chromium for t, or skips t when no binary is installed.
func mustBrowser(t *testing.T) context.Context {
	t.Helper()
	path := chromiumPath()
	if path == "" {
		t.Skip("browser tests skipped: no Chromium binary found (set TACT_CHROMIUM, or install Debian's chromium package)")
	}
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("no-default-browser-check", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	)
	browser, cancelBrowser := chromedp.NewContext(alloc)
	t.Cleanup(func() { cancelBrowser(); cancelAlloc() })
	if err := chromedp.Do(browser); err != nil { // starts the browser; no deadline on this first call
		t.Fatalf("starting %s: %v", path, err)
	}
	return browser
}

// tab is one person's view: a tab in its own browser context.
type tab struct {
	t    *testing.T
	ctx  context.Context
	base string
	shot string // screenshot folder
}

func newTab(t *testing.T, browser context.Context, base string) *tab {
	t.Helper()
	ctx, cancel := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil {
		t.Fatal(err)
	}
	return &tab{t: t, ctx: ctx, base: base, shot: screenshotDir(t)}
}

func (b *tab) do(steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		loc, _ := chromedp.Run(b.ctx, chromedp.Location())
		html, _ := chromedp.Run(b.ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText.slice(0, 3000) : ""`))
		b.t.Fatalf("browser at %s: %v\npage text:\n%s", loc, err, html)
	}
}

func (b *tab) text(sel string) string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		b.t.Fatalf("text of %s: %v", sel, err)
	}
	return s
}

func (b *tab) count(sel string) int {
	b.t.Helper()
	n, err := chromedp.Run(b.ctx, chromedp.Evaluate[int](fmt.Sprintf(`document.querySelectorAll(%q).length`, sel)))
	if err != nil {
		b.t.Fatal(err)
	}
	return n
}

// waitFlash waits for a flash message containing want.
func (b *tab) waitFlash(want string) {
	b.t.Helper()
	b.do(chromedp.WaitVisible(chromedp.Search(fmt.Sprintf(`//div[contains(@class,"flash") and contains(., %q)]`, want))))
}

func (b *tab) login(token string) {
	b.t.Helper()
	b.do(
		chromedp.Navigate(b.base+"/"),
		chromedp.WaitVisible(chromedp.CSS("#token")),     // sent to the login page
		chromedp.SetValue(chromedp.CSS("#token"), token), // not typed key by key: a token is pasted
		chromedp.Click(chromedp.CSS(`form[action="/login"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS("#section-pending")),
	)
}

// screenshot saves the whole page as PNG (FullScreenshot with quality 100 is PNG).
func (b *tab) screenshot(name string) { b.capture(name, chromedp.FullScreenshot(100)) }

// viewportShot saves what the screen shows, as a person first sees the page.
func (b *tab) viewportShot(name string) { b.capture(name, chromedp.CaptureScreenshot()) }

func (b *tab) capture(name string, shot chromedp.Action[[]byte]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	png, err := chromedp.Run(ctx, shot)
	if err != nil {
		b.t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(b.shot, name+".png"), png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

// screenshotDir is $TACT_SCREENSHOTS, or build/screenshots at the repository root.
func screenshotDir(t *testing.T) string {
	dir := os.Getenv("TACT_SCREENSHOTS")
	if dir == "" {
		dir = filepath.Join("..", "..", "build", "screenshots")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

func sel(format string, args ...any) chromedp.CSS { return chromedp.CSS(fmt.Sprintf(format, args...)) }

func TestBrowser(t *testing.T) {
	browser := mustBrowser(t)

	t.Run("marketer works through the queue", func(t *testing.T) {
		f := mustFixture(t)
		b := newTab(t, browser, f.srv.URL)
		b.do(chromedp.Navigate(f.srv.URL+"/"), chromedp.WaitVisible(chromedp.CSS("#token")))
		b.screenshot("login")
		b.login(f.tokens[queue.RoleMarketer])
		b.waitFlash("Welcome, mona")
		// htmx loads under the page's CSP and reads its config from the meta tag (no page
		// snapshots in localStorage, error pages swapped in).
		if v, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`window.htmx ? htmx.version + " cache=" + htmx.config.historyCacheSize : "not loaded"`)); err != nil || v != "2.0.11 cache=0" {
			t.Errorf("htmx: %q %v", v, err)
		}

		// The queue: pending posts grouped by day, per-network lengths, warnings.
		sale := f.posts["sale"]
		if got := b.text(fmt.Sprintf(`#post-%d [data-len-for="%d"][data-counting="mastodon"]`, sale.ID, sale.ID)); got != fmt.Sprintf("%d / 500", web.Length(sale.Text, "mastodon")) {
			t.Errorf("mastodon length of the sale post: %q", got)
		}
		if !strings.Contains(b.text(fmt.Sprintf("#post-%d .warnings", f.posts["shake"].ID)), "earthquake") {
			t.Error("the flagged post shows no earthquake warning")
		}
		if n := b.count(fmt.Sprintf(`#post-%d form[action$="/approve"]`, f.posts["long"].ID)); n != 0 {
			t.Error("a post the network refuses offers Approve")
		}
		b.screenshot("queue")

		// Approve: the post leaves the pending section for the approved one.
		last := f.posts["lastday"]
		b.do(
			chromedp.Click(sel(`#post-%d form[action$="/approve"] button`, last.ID)),
			chromedp.WaitNotPresent(sel("#section-pending #post-%d", last.ID)),
			chromedp.WaitVisible(sel("#section-approved #post-%d", last.ID)),
		)
		b.waitFlash(fmt.Sprintf("Approved post #%d", last.ID))
		if got := f.get(last.ID).State; got != queue.PostApproved {
			t.Fatalf("after approve the store says %s", got)
		}

		// Reject with a reason.
		col := f.posts["colours"]
		b.do(
			chromedp.Click(sel("#post-%d details.reject summary", col.ID)),
			chromedp.WaitVisible(sel("#reason-%d", col.ID)),
			chromedp.SendKeys(sel("#reason-%d", col.ID), "Sand is out of stock"),
			chromedp.Click(sel(`#post-%d form[action$="/reject"] button`, col.ID)),
			chromedp.WaitNotPresent(sel("#post-%d", col.ID)),
		)
		b.waitFlash(fmt.Sprintf("Rejected post #%d", col.ID))
		if p := f.get(col.ID); p.State != queue.PostRejected || p.Reason != "Sand is out of stock" {
			t.Fatalf("after reject: %s %q", p.State, p.Reason)
		}

		// Edit the approved post: the count follows the typing, and saving sends it back to pending.
		newText := "Last day of the spring sale! 🌷🌷 Everything must go."
		b.do(
			chromedp.Click(sel("#post-%d details.editbox summary", last.ID)),
			chromedp.WaitVisible(sel("#text-%d", last.ID)),
			chromedp.Clear(sel("#text-%d", last.ID)),
			chromedp.SendKeys(sel("#text-%d", last.ID), newText),
		)
		want := fmt.Sprintf("%d / 300", web.Length(newText, "graphemes"))
		b.do(chromedp.WaitVisible(chromedp.Search(fmt.Sprintf(`//article[@id="post-%d"]//span[@data-counting="graphemes" and normalize-space(.)=%q]`, last.ID, want))))
		b.do(
			chromedp.Click(sel(`#post-%d form.edit button[type=submit]`, last.ID)),
			chromedp.WaitVisible(sel("#section-pending #post-%d", last.ID)),
		)
		b.waitFlash("approval was cancelled")
		if p := f.get(last.ID); p.State != queue.PostPending || p.Text != newText {
			t.Fatalf("after the edit: %s %q", p.State, p.Text)
		}

		// Bulk approve two.
		ship := f.posts["shipping"]
		b.do(
			chromedp.Click(sel("#sel-%d", sale.ID)),
			chromedp.Click(sel("#sel-%d", ship.ID)),
			chromedp.Click(chromedp.CSS(`button[form="bulk"]`)),
			chromedp.WaitVisible(sel("#section-approved #post-%d", sale.ID)),
			chromedp.WaitVisible(sel("#section-approved #post-%d", ship.ID)),
		)
		b.waitFlash("Approved 2 posts")
		for _, id := range []int64{sale.ID, ship.ID} {
			if got := f.get(id).State; got != queue.PostApproved {
				t.Errorf("post %d after bulk approve: %s", id, got)
			}
		}

		// A POST without the CSRF token is refused and changes nothing.
		status, err := chromedp.Run(b.ctx, chromedp.Evaluate[int](fmt.Sprintf(
			`fetch("/posts/%d/hold", {method: "POST", body: new URLSearchParams({version: "0"})}).then(r => r.status)`, sale.ID), chromedp.EvalAwaitPromise))
		if err != nil || status != 403 {
			t.Fatalf("POST without a CSRF token: %d %v, want 403", status, err)
		}
		if got := f.get(sale.ID).State; got != queue.PostApproved {
			t.Fatalf("the refused POST changed the post: %s", got)
		}

		// The other pages, for the record.
		week := f.posts["lisbon"].DueAt.In(f.paris).Format("2006-01-02")
		b.do(chromedp.Navigate(f.srv.URL+"/calendar?week="+week), chromedp.WaitVisible(chromedp.CSS("table.calendar")))
		if !strings.Contains(b.text("table.calendar"), "Fly to Lisbon") {
			t.Error("the calendar does not show the approved Lisbon post")
		}
		b.screenshot("calendar")
		b.do(chromedp.Navigate(f.srv.URL+"/audit"), chromedp.WaitVisible(chromedp.CSS("table.audit")))
		b.do(chromedp.SendKeys(chromedp.CSS("#a-action"), "post.reject"), chromedp.Click(chromedp.CSS(`form[action="/audit"] button[type=submit]`)),
			// Only the filtered page has exactly one row: the rejection, with its reason.
			chromedp.WaitVisible(chromedp.Search(`//table[contains(@class,"audit")]/tbody[count(tr)=1]/tr/td[contains(., "Sand is out of stock")]`)))
		b.screenshot("audit")
	})

	t.Run("paused campaign: evidence and confirmed resume", func(t *testing.T) {
		f := mustFixture(t)
		b := newTab(t, browser, f.srv.URL)
		b.login(f.tokens[queue.RoleMarketer])
		tr := f.travel
		if tr.State != queue.CampaignPaused {
			t.Fatalf("the fixture's travel campaign is %s; the watcher should have paused it", tr.State)
		}
		link := fmt.Sprintf(`#campaign-%d .evidence a[href="https://news.example.org/airliner-crash"]`, tr.ID)
		b.do(chromedp.Navigate(f.srv.URL+"/campaigns"), chromedp.WaitVisible(chromedp.CSS(link)))
		if got := b.text(link); got != "Airliner with 242 aboard crashes after take-off" {
			t.Errorf("evidence link text %q", got)
		}
		if !strings.Contains(b.text(fmt.Sprintf("#campaign-%d .pause", tr.ID)), "air-disaster") {
			t.Error("the pause does not name its rule")
		}
		b.screenshot("campaigns")

		// The incident is still open: the first press asks to confirm, saying so.
		b.do(
			chromedp.Click(sel(`#campaign-%d form[action$="/resume"] button`, tr.ID)),
			chromedp.WaitVisible(chromedp.CSS(`input[name="confirm"][value="yes"] ~ button`)),
		)
		if !strings.Contains(b.text(".flash-error"), "still open") {
			t.Error("the confirmation does not say the incident is still open")
		}
		if c, _ := f.store.Campaign(f.ctx, tr.ID); c.State != queue.CampaignPaused {
			t.Fatal("the campaign resumed before the confirmation")
		}
		b.screenshot("resume-confirm")
		b.do(chromedp.Click(chromedp.CSS(`input[name="confirm"][value="yes"] ~ button`)))
		b.waitFlash("Resumed campaign lisbon-flights")
		if c, _ := f.store.Campaign(f.ctx, tr.ID); c.State != queue.CampaignActive {
			t.Fatalf("after the confirmed resume: %s", c.State)
		}
	})

	t.Run("admin: incidents and rules", func(t *testing.T) {
		f := mustFixture(t)
		b := newTab(t, browser, f.srv.URL)
		b.login(f.tokens[queue.RoleAdmin])
		b.do(chromedp.Navigate(f.srv.URL+"/incidents"), chromedp.WaitVisible(chromedp.CSS(".incident")))
		b.screenshot("incidents")
		open, err := f.store.Incidents(f.ctx, queue.IncidentFilter{States: []queue.IncidentState{queue.IncidentOpen}, RuleID: "air-disaster"})
		if err != nil || len(open) != 1 {
			t.Fatalf("open air-disaster incidents: %d %v", len(open), err)
		}
		id := open[0].ID
		b.do(
			chromedp.SendKeys(sel("#note-%d", id), "Checked with comms: the story is a week old"),
			chromedp.Click(sel(`form[action="/incidents/%d/resolve"] button`, id)),
		)
		b.waitFlash(fmt.Sprintf("Resolved incident #%d", id))
		if in, _ := f.store.Incident(f.ctx, id); in.State != queue.IncidentResolved {
			t.Fatalf("after resolve: %s", in.State)
		}

		// Declare by hand: the rule's action applies (the earthquake rule flags "shake" posts).
		b.do(
			chromedp.Click(chromedp.CSS("details.card summary")),
			chromedp.WaitVisible(chromedp.CSS("#d-rule")),
			chromedp.SetValue(chromedp.CSS("#d-rule"), "air-disaster"),
			chromedp.SendKeys(chromedp.CSS("#d-note"), "Comms asks for silence on travel today"),
			chromedp.Click(chromedp.CSS(`form[action="/incidents/declare"] button`)),
		)
		b.waitFlash("Declared incident")
		declared, err := f.store.Incidents(f.ctx, queue.IncidentFilter{States: []queue.IncidentState{queue.IncidentOpen}, RuleID: "air-disaster"})
		if err != nil || len(declared) != 1 || !declared[0].Declared || declared[0].Note != "Comms asks for silence on travel today" {
			t.Fatalf("after declaring: %+v %v", declared, err)
		}

		b.do(chromedp.Navigate(f.srv.URL+"/rules"), chromedp.WaitVisible(chromedp.CSS("table")))
		b.screenshot("rules")

		// A broken rule file: the reload is refused, the old rules stay, the error is prominent.
		if err := os.WriteFile(filepath.Join(f.rulesIn, "broken.toml"), []byte("[[rule]]\nid = \"broken\"\naction = \"explode\"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		b.do(
			chromedp.Click(chromedp.CSS(`form[action="/rules/reload"] button`)),
			chromedp.WaitVisible(chromedp.CSS(".reload-error")),
		)
		if got := b.text(".reload-error"); !strings.Contains(got, "broken.toml") || !strings.Contains(got, "stay in force") {
			t.Errorf("reload error box: %q", got)
		}
		if n := b.count("table tbody tr"); n != 2 {
			t.Errorf("after a failed reload %d rules are listed, want the previous 2", n)
		}
		b.screenshot("rules-reload-error")
	})

	t.Run("CSV import: a bad row is reported by line and nothing is imported", func(t *testing.T) {
		f := mustFixture(t)
		b := newTab(t, browser, f.srv.URL)
		b.login(f.tokens[queue.RoleMarketer])
		before := f.countPosts()
		day := time.Now().In(f.paris).AddDate(0, 0, 3).Format("2006-01-02")
		file := filepath.Join(t.TempDir(), "posts.csv")
		bad := "campaign,at,text,account\n" +
			"spring-sale," + day + " 09:00,Linen week starts today,brand-mastodon\n" +
			"spring-sale,tomorrow-ish,A row with a bad time,brand-mastodon\n" +
			"spring-sale," + day + " 11:00,\"Quoted, with a comma\",brand-bluesky\n"
		if err := os.WriteFile(file, []byte(bad), 0o644); err != nil {
			t.Fatal(err)
		}
		b.do(
			chromedp.Navigate(f.srv.URL+"/import"),
			chromedp.WaitVisible(chromedp.CSS("#file")),
			chromedp.SetUploadFiles(chromedp.CSS("#file"), []string{file}),
			chromedp.Click(chromedp.CSS(`form[action="/import"] button[type=submit]`)),
			chromedp.WaitVisible(chromedp.CSS(".import-errors")),
		)
		errs := b.text(".import-errors")
		if !strings.Contains(errs, "Line 3") || !strings.Contains(errs, "tomorrow-ish") || strings.Contains(errs, "Line 2") || strings.Contains(errs, "Line 4") {
			t.Errorf("import errors: %q, want only line 3", errs)
		}
		if !strings.Contains(b.text(".flash-error"), "Nothing was imported") {
			t.Error("the import error does not say nothing was imported")
		}
		b.screenshot("import-error")
		if got := f.countPosts(); got != before {
			t.Fatalf("a refused import stored posts: %d -> %d", before, got)
		}

		good := strings.Replace(bad, "tomorrow-ish", day+" 10:00", 1)
		if err := os.WriteFile(file, []byte(good), 0o644); err != nil {
			t.Fatal(err)
		}
		b.do(
			chromedp.SetUploadFiles(chromedp.CSS("#file"), []string{file}),
			chromedp.Click(chromedp.CSS(`form[action="/import"] button[type=submit]`)),
		)
		b.waitFlash("Imported 3 posts from posts.csv")
		if got := f.countPosts(); got != before+3 {
			t.Fatalf("after a good import: %d posts, want %d", got, before+3)
		}
	})

	t.Run("the live count of an X account is X's, counted by the server", func(t *testing.T) {
		f := mustFixture(t)
		c := f.campaign("x-launch", []string{"brand-x"}, []string{"promotion"})
		f.post("xpost", c, time.Now().Add(48*time.Hour), "Launch day")
		p := f.posts["xpost"]
		b := newTab(t, browser, f.srv.URL)
		b.login(f.tokens[queue.RoleMarketer])
		area := fmt.Sprintf("#text-%d", p.ID)
		counter := fmt.Sprintf(`[data-len-for="%d"]`, p.ID)
		// 13 Latin characters, a bare domain (23), a space and two CJK characters (2 each): 41 by X's
		// rules, 27 by code points.
		b.do(
			chromedp.Navigate(fmt.Sprintf("%s/posts/%d/edit", f.srv.URL, p.ID)),
			chromedp.WaitVisible(chromedp.CSS(area)),
			chromedp.Clear(chromedp.CSS(area)),
			chromedp.SendKeys(chromedp.CSS(area), "Launch today example.com 日本"),
		)
		deadline := time.Now().Add(10 * time.Second)
		for b.text(counter) != "41 / 280" {
			if time.Now().After(deadline) {
				t.Fatalf("the X counter shows %q, want \"41 / 280\"", b.text(counter))
			}
			time.Sleep(50 * time.Millisecond) // polling the page for the debounced answer
		}
	})

	t.Run("marketer attaches an image from the edit page and sees its thumbnail", func(t *testing.T) {
		f := mustFixture(t)
		b := newTab(t, browser, f.srv.URL)
		b.login(f.tokens[queue.RoleMarketer])
		p := f.posts["colours"]
		file := filepath.Join(t.TempDir(), "colours.png")
		if err := os.WriteFile(file, webPNG(t, 40, 30, true), 0o600); err != nil {
			t.Fatal(err)
		}
		input := fmt.Sprintf("#file-%d", p.ID)
		b.do(
			chromedp.Navigate(fmt.Sprintf("%s/posts/%d/edit", f.srv.URL, p.ID)),
			chromedp.WaitVisible(chromedp.CSS(input)),
			chromedp.SetUploadFiles(chromedp.CSS(input), []string{file}),
			chromedp.Click(sel(`form[action="/posts/%d/media"] button[type=submit]`, p.ID)),
		)
		b.waitFlash("Attached the file (image/png")
		got := f.get(p.ID)
		if len(got.Media) != 1 {
			t.Fatalf("media after the upload: %v", got.Media)
		}
		// The thumbnail really loads (same origin, under the CSP), at the image's size.
		thumb := fmt.Sprintf(`img[src="/media/%s"]`, got.Media[0])
		b.do(chromedp.WaitVisible(chromedp.CSS(thumb)))
		w, err := chromedp.Run(b.ctx, chromedp.Evaluate[int](fmt.Sprintf(`(() => { const i = document.querySelector(%q); return i.complete ? i.naturalWidth : -1 })()`, thumb)))
		if err != nil || w != 40 {
			t.Fatalf("the thumbnail's natural width is %d (%v), want 40", w, err)
		}
		b.screenshot("edit-attachment")
		b.do(
			chromedp.Click(sel(`form[action="/posts/%d/media/remove"] button[type=submit]`, p.ID)),
		)
		b.waitFlash("Removed the attachment")
		if got := f.get(p.ID).Media; len(got) != 0 {
			t.Fatalf("media after removing: %v", got)
		}
	})

	t.Run("viewer sees no actions and a forged POST gets 403", func(t *testing.T) {
		f := mustFixture(t)
		b := newTab(t, browser, f.srv.URL)
		b.login(f.tokens[queue.RoleViewer])
		if n := b.count(`form[action$="/approve"], button[form="bulk"], details.reject, details.editbox`); n != 0 {
			t.Fatalf("the viewer's queue has %d action controls", n)
		}
		// Keyboard: the first Tab reaches the skip link, and it is visible when focused.
		b.do(chromedp.Navigate(f.srv.URL+"/"), chromedp.WaitVisible(chromedp.CSS("#section-pending")), chromedp.KeyEvent("\t"),
			chromedp.WaitVisible(chromedp.CSS("a.skip:focus")))
		last := f.posts["lastday"]
		// Forge the approve form with the viewer's own valid CSRF token (from the logout form).
		status, err := chromedp.Run(b.ctx, chromedp.Evaluate[int](fmt.Sprintf(`
			fetch("/posts/%d/approve", {method: "POST", body: new URLSearchParams({
				csrf: document.querySelector('form[action="/logout"] input[name=csrf]').value, version: "%d"})})
			.then(r => r.status)`, last.ID, last.Version), chromedp.EvalAwaitPromise))
		if err != nil || status != 403 {
			t.Fatalf("viewer's forged approve: %d %v, want 403", status, err)
		}
		if got := f.get(last.ID).State; got != queue.PostPending {
			t.Fatalf("the forged POST changed the post: %s", got)
		}
	})

	t.Run("works without JavaScript", func(t *testing.T) {
		f := mustFixture(t)
		b := newTab(t, browser, f.srv.URL)
		b.do(chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := cdp.Call(ctx, tg, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true})
			return err
		}))
		b.login(f.tokens[queue.RoleMarketer])
		if loaded, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](`typeof window.htmx !== "undefined"`)); err != nil || loaded {
			t.Fatalf("scripts ran in a page with JavaScript disabled (%v)", err)
		}
		sale, col := f.posts["sale"], f.posts["colours"]
		b.do(
			chromedp.Click(sel(`#post-%d form[action$="/approve"] button`, sale.ID)),
			chromedp.WaitVisible(sel("#section-approved #post-%d", sale.ID)),
		)
		b.waitFlash(fmt.Sprintf("Approved post #%d", sale.ID))
		b.do(
			chromedp.Click(sel("#post-%d details.reject summary", col.ID)),
			chromedp.SendKeys(sel("#reason-%d", col.ID), "Off-brand colours"),
			chromedp.Click(sel(`#post-%d form[action$="/reject"] button`, col.ID)),
		)
		b.waitFlash(fmt.Sprintf("Rejected post #%d", col.ID))
		if f.get(sale.ID).State != queue.PostApproved || f.get(col.ID).State != queue.PostRejected {
			t.Fatalf("without JavaScript: sale %s, colours %s", f.get(sale.ID).State, f.get(col.ID).State)
		}
	})

	t.Run("phone width", func(t *testing.T) {
		f := mustFixture(t)
		b := newTab(t, browser, f.srv.URL)
		b.do(chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2)))
		b.login(f.tokens[queue.RoleMarketer])
		// Nothing may overflow sideways on a phone: the page is as wide as the screen.
		w, err := chromedp.Run(b.ctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth`))
		if err != nil || w > 390 {
			t.Errorf("queue at phone width is %d px wide (%v), want at most 390", w, err)
		}
		b.viewportShot("queue-phone")
	})
}
