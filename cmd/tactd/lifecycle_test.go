package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestSIGTERMFinishesThePublishInFlight stops tactd while a (slow) publish is in flight:
// the publish completes and is recorded, and the daemon exits within 10 seconds. SIGTERM
// goes to the whole process group, plugin processes included, as a terminal or systemd's
// default KillMode sends it.
func TestSIGTERMFinishesThePublishInFlight(t *testing.T) {
	rc := newReceiver()
	release := make(chan struct{})
	// The receiver records the publish, then answers only once the daemon has been told
	// to stop: the publish is in flight when SIGTERM arrives.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			rc.mu.Lock()
			rc.posts[r.Header.Get("Idempotency-Key")]++
			rc.mu.Unlock()
			rc.received <- r.Header.Get("Idempotency-Key")
			<-release
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"id":"r-1","url":"https://hooks.test/1"}`)
			return
		}
		rc.ServeHTTP(w, r)
	}))
	defer srv.Close()
	dir := t.TempDir()
	d := startDaemon(t, dir, webhookConfig(srv.URL))
	d.ctl(t, "campaign", "create", "c", "--account", "hook", "--topic", "news")
	id := d.createPost(t, "c", "In flight during shutdown", time.Now().Add(4*time.Second))
	d.ctl(t, "approve", fmt.Sprint(id))
	select {
	case <-rc.received:
	case <-time.After(30 * time.Second):
		t.Fatalf("the publish never started:\n%s", d.logs)
	}
	start := time.Now()
	if err := syscall.Kill(-d.cmd.Process.Pid, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	close(release)
	select {
	case <-d.exited:
	case <-time.After(10 * time.Second):
		t.Fatalf("tactd did not stop within 10s of SIGTERM:\n%s", d.logs)
	}
	if code := d.cmd.ProcessState.ExitCode(); code != 0 {
		t.Fatalf("tactd exited %d after SIGTERM, want 0:\n%s", code, d.logs)
	}
	t.Logf("stopped %s after SIGTERM", time.Since(start).Round(time.Millisecond))
	if strings.Contains(d.logs.String(), "signal: terminated") {
		t.Fatalf("a plugin process died of the group's SIGTERM before the daemon stopped it:\n%s", d.logs)
	}

	d2 := startDaemon(t, dir, webhookConfig(srv.URL))
	if st := d2.post(t, id).State; st != "published" {
		t.Fatalf("the publish in flight at SIGTERM was not recorded: post is %s", st)
	}
	if keys, posts := rc.count(); keys != 1 || posts != 1 {
		t.Fatalf("network received %d publishes for %d keys, want 1", posts, keys)
	}
}

// TestSIGHUPReloadKeepsRulesOnError: a broken rule file on SIGHUP leaves the previous set in
// force and shows the error with its line in status; a fixed file is picked up.
func TestSIGHUPReloadKeepsRulesOnError(t *testing.T) {
	dir := t.TempDir()
	rulesDir := filepath.Join(dir, "rules.d")
	os.MkdirAll(rulesDir, 0o700)
	ruleFile := filepath.Join(rulesDir, "air.toml")
	os.WriteFile(ruleFile, []byte(shortAirRule), 0o600)
	cfg := strings.Replace(outboxConfig, `rules    = ["RULES"]`, `rules    = ["DATA/rules.d/*.toml"]`, 1)
	d := startDaemon(t, dir, cfg)

	type rulesStatus struct {
		Rules []struct {
			ID string `json:"id"`
		} `json:"rules"`
		LastReloadError string `json:"last_reload_error"`
	}
	var st rulesStatus
	d.api(t, "GET", "/api/v1/rules", nil, &st)
	if len(st.Rules) != 1 || st.Rules[0].ID != "air-disaster" {
		t.Fatalf("rules in force at start: %+v", st)
	}
	// Break the file (line 5: a bad window), then ask for a reload.
	broken := strings.Replace(shortAirRule, `window      = "3s"`, `window      = "three seconds"`, 1)
	writeAtomically(t, ruleFile, broken)
	if err := d.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	eventually(t, 15*time.Second, "the reload error to show", func() bool {
		d.api(t, "GET", "/api/v1/rules", nil, &st)
		return st.LastReloadError != ""
	})
	if !strings.Contains(st.LastReloadError, ruleFile+":6:") || len(st.Rules) != 1 {
		t.Fatalf("reload error %q (want %s:6:) or rules changed: %+v", st.LastReloadError, ruleFile, st.Rules)
	}
	out := d.ctl(t, "status")
	if !strings.Contains(out, "three seconds") {
		t.Fatalf("tactctl status does not show the reload error:\n%s", out)
	}

	fixed := strings.Replace(shortAirRule, `id          = "air-disaster"`, `id          = "air-disaster-v2"`, 1)
	writeAtomically(t, ruleFile, fixed)
	if err := d.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		st = rulesStatus{} // omitempty: a cleared error is absent from the JSON
		d.api(t, "GET", "/api/v1/rules", nil, &st)
		if st.LastReloadError == "" && len(st.Rules) == 1 && st.Rules[0].ID == "air-disaster-v2" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the fixed rules did not load: %+v\n%s", st, d.logs)
		}
		<-time.After(50 * time.Millisecond)
	}
}
