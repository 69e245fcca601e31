package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// The accounts page in headless Chromium against the real tactd: an admin presses
// Connect, lands on the fake Mastodon's consent page, approves, and is sent back to
// tactd's "Connected as …"; then connects Bluesky with its app password form. Every wait
// is on the page, with a deadline.

func chromium() string {
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

func TestConnectInTheBrowser(t *testing.T) {
	path := chromium()
	if path == "" {
		t.Skip("browser test skipped: no Chromium binary found (set TACT_CHROMIUM, or install Debian's chromium package)")
	}
	t.Parallel()
	e := newConnectEnv(t)
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(path), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("no-first-run", true), chromedp.Flag("no-default-browser-check", true),
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1280, 900))
	defer cancelAlloc()
	browser, cancel := chromedp.NewContext(alloc)
	defer cancel()
	if err := chromedp.Do(browser); err != nil {
		t.Fatalf("starting %s: %v", path, err)
	}
	do := func(steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		ctx, cancel := context.WithTimeout(browser, 30*time.Second)
		defer cancel()
		if err := chromedp.Do(ctx, steps...); err != nil {
			loc, _ := chromedp.Run(browser, chromedp.Location())
			text, _ := chromedp.Run(browser, chromedp.Evaluate[string](`document.body ? document.body.innerText.slice(0, 3000) : ""`))
			t.Fatalf("browser at %s: %v\npage text:\n%s\ndaemon log:\n%s", loc, err, text, tail(e.d.logs.String(), 3000))
		}
	}
	text := func(sel string) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(browser, 30*time.Second)
		defer cancel()
		s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("text of %s: %v", sel, err)
		}
		return strings.TrimSpace(s)
	}
	host := strings.TrimPrefix(e.masto.URL, "http://")

	do(
		chromedp.Navigate(e.public+"/"),
		chromedp.WaitVisible(chromedp.CSS("#token")),
		chromedp.SetValue(chromedp.CSS("#token"), e.d.token),
		chromedp.Click(chromedp.CSS(`form[action="/login"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS("#section-pending")),
		chromedp.Click(chromedp.CSS(`nav a[href="/accounts"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#account-brand-mastodon form.connect button`)),
	)
	if got := text("#account-brand-mastodon .connected-as"); got != "not connected from tact" {
		t.Fatalf("before connecting, connected as %q", got)
	}
	if got := text("#account-brand-mastodon .attention"); !strings.Contains(got, "not connected") {
		t.Fatalf("before connecting, needs attention %q", got)
	}

	// Connect: tactd's page moves on to the network's consent page by itself.
	do(
		chromedp.Click(chromedp.CSS(`#account-brand-mastodon form.connect button`)),
		chromedp.WaitVisible(chromedp.CSS("#authorize")),
	)
	if loc, _ := chromedp.Run(browser, chromedp.Location()); !strings.HasPrefix(loc, e.masto.URL+"/oauth/authorize?") {
		t.Fatalf("Connect led to %s, not the network's consent page", loc)
	}
	do(
		chromedp.Click(chromedp.CSS("#authorize")),
		chromedp.WaitVisible(chromedp.CSS("#connected")),
	)
	if loc, _ := chromedp.Run(browser, chromedp.Location()); !strings.HasPrefix(loc, e.public+"/oauth/callback?") {
		t.Fatalf("the network sent the browser to %s", loc)
	}
	if got := text("h1"); got != "Connected as @tact@"+host {
		t.Fatalf("the way back says %q", got)
	}

	do(
		chromedp.Navigate(e.public+"/accounts"),
		chromedp.WaitVisible(chromedp.CSS(`#account-brand-mastodon .connected-as`)),
	)
	if got := text("#account-brand-mastodon .connected-as"); got != "@tact@"+host {
		t.Fatalf("the accounts page says connected as %q", got)
	}
	if got := text("#account-brand-mastodon .token-expires"); got != "never" {
		t.Fatalf("token expires %q", got)
	}

	// Bluesky's app password form.
	do(
		chromedp.SetValue(chromedp.CSS(`#account-brand-bluesky input[name="identifier"]`), e.sky.Handle),
		chromedp.SetValue(chromedp.CSS(`#account-brand-bluesky input[name="app_password"]`), e.sky.AppPassword),
		chromedp.Click(chromedp.CSS(`#account-brand-bluesky form button[type=submit]`)),
		chromedp.WaitVisible(chromedp.Search(fmt.Sprintf(`//div[contains(@class,"flash") and contains(., %q)]`, "Connected brand-bluesky as "+e.sky.Handle))),
	)
	if got := text("#account-brand-bluesky .connected-as"); got != e.sky.Handle {
		t.Fatalf("bluesky connected as %q", got)
	}
	a := e.d.account(t, "brand-bluesky")
	if a.Connection == nil || a.Connection.Kind != "password" || !a.Healthy {
		t.Fatalf("bluesky after the form: %+v", a)
	}
}
