package main

// End-to-end tests: the real tactd and tactctl binaries (built with -race), a real SQLite
// file, real plugin child processes, and httptest servers standing in for the networks.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

var binDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "tact-e2e-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binDir = dir
	cmd := exec.Command("go", "build", "-race", "-o", dir+"/", "github.com/tact-hq/tact/cmd/tactd", "github.com/tact-hq/tact/cmd/tactctl")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building the binaries:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// daemonProc is a running tactd.
type daemonProc struct {
	t       *testing.T
	cmd     *exec.Cmd
	addr    string
	dataDir string
	token   string
	logs    *syncBuffer
	exited  chan struct{}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startDaemon runs tactd with cfg (a tact.toml body in which DATA is replaced by the data
// directory) and waits until it is ready.
func startDaemon(t *testing.T, dir, cfg string) *daemonProc {
	t.Helper()
	dataDir := filepath.Join(dir, "data")
	cfgPath := filepath.Join(dir, "tact.toml")
	rulesGlob, _ := filepath.Abs("../../rules/default/*.toml")
	cfg = strings.NewReplacer("DATA", dir, "RULES", rulesGlob).Replace(cfg)
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	d := &daemonProc{t: t, dataDir: dataDir, logs: &syncBuffer{}, exited: make(chan struct{})}
	d.cmd = exec.Command(filepath.Join(binDir, "tactd"), "--config", cfgPath)
	// Its own process group, with its plugin processes: signals can go to the whole group,
	// as a terminal's Ctrl-C or systemd's control-group kill do.
	d.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	pr, pw := io.Pipe()
	d.cmd.Stderr = io.MultiWriter(d.logs, pw)
	d.cmd.Stdout = d.logs
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		_ = d.cmd.Wait()
		pw.Close()
		close(d.exited)
	}()
	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			var line struct {
				Msg    string `json:"msg"`
				Listen string `json:"listen"`
			}
			if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "tactd ready" {
				ready <- line.Listen
			}
		}
		_, _ = io.Copy(io.Discard, pr)
	}()
	select {
	case d.addr = <-ready:
	case <-d.exited:
		t.Fatalf("tactd exited before it was ready:\n%s", d.logs)
	case <-time.After(60 * time.Second):
		d.cmd.Process.Kill()
		t.Fatalf("tactd not ready within 60s:\n%s", d.logs)
	}
	tok, err := os.ReadFile(filepath.Join(dataDir, "admin.token"))
	if err != nil {
		t.Fatal(err)
	}
	d.token = strings.TrimSpace(string(tok))
	t.Cleanup(func() { d.stop(syscall.SIGTERM) })
	return d
}

// stop sends sig and waits for the process to exit.
func (d *daemonProc) stop(sig syscall.Signal) {
	select {
	case <-d.exited:
		return
	default:
	}
	_ = d.cmd.Process.Signal(sig)
	select {
	case <-d.exited:
	case <-time.After(20 * time.Second):
		_ = d.cmd.Process.Kill()
		<-d.exited
		d.t.Errorf("tactd did not stop within 20s of %v:\n%s", sig, d.logs)
	}
}

// ctl runs tactctl against d and returns its stdout; a non-zero exit fails the test unless
// wantFail.
func (d *daemonProc) ctl(t *testing.T, args ...string) string {
	t.Helper()
	out, errOut, code := d.ctlCode(args...)
	if code != 0 {
		t.Fatalf("tactctl %s: exit %d\nstdout: %s\nstderr: %s\ndaemon log:\n%s", strings.Join(args, " "), code, out, errOut, d.logs)
	}
	return out
}

func (d *daemonProc) ctlCode(args ...string) (stdout, stderr string, code int) {
	cmd := exec.Command(filepath.Join(binDir, "tactctl"), args...)
	cmd.Env = append(os.Environ(), "TACT_SERVER=http://"+d.addr, "TACT_TOKEN="+d.token)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	code = 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		code = -1
	}
	return o.String(), e.String(), code
}

// api calls the daemon's HTTP API directly and decodes the JSON answer into out.
func (d *daemonProc) api(t *testing.T, method, path string, body any, out any) int {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequestWithContext(context.Background(), method, "http://"+d.addr+path, rd)
	req.Header.Set("Authorization", "Bearer "+d.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if out != nil {
		b, _ := io.ReadAll(resp.Body)
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, b)
		}
	}
	return resp.StatusCode
}

type postView struct {
	ID         int64  `json:"id"`
	State      string `json:"state"`
	Text       string `json:"text"`
	Version    int64  `json:"version"`
	Deliveries []struct {
		State    string `json:"state"`
		RemoteID string `json:"remote_id"`
	} `json:"deliveries"`
}

func (d *daemonProc) post(t *testing.T, id int64) postView {
	t.Helper()
	var p postView
	if code := d.api(t, "GET", fmt.Sprintf("/api/v1/posts/%d", id), nil, &p); code != 200 {
		t.Fatalf("GET post %d: %d", id, code)
	}
	return p
}

// createPost creates a post through tactctl and returns its id.
func (d *daemonProc) createPost(t *testing.T, campaign, text string, at time.Time) int64 {
	t.Helper()
	out := d.ctl(t, "--json", "post", "create", "--campaign", campaign, "--at", at.UTC().Format(time.RFC3339Nano), "--text", text)
	var p postView
	if err := json.Unmarshal([]byte(out), &p); err != nil || p.ID == 0 {
		t.Fatalf("post create printed %q (%v)", out, err)
	}
	return p.ID
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	tick := time.NewTicker(25 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", within, what)
		}
		<-tick.C
	}
}

// outboxLines returns the JSON lines the outbox plugin wrote.
func outboxLines(t *testing.T, path string) []map[string]any {
	t.Helper()
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if l == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("outbox line %q: %v", l, err)
		}
		out = append(out, m)
	}
	return out
}

func countText(lines []map[string]any, text string) int {
	n := 0
	for _, l := range lines {
		if l["text"] == text {
			n++
		}
	}
	return n
}

const outboxConfig = `
[daemon]
data_dir = "DATA/data"
listen   = "127.0.0.1:0"
rules    = ["RULES"]
log_level = "debug"

[[account]]
name    = "brand"
plugin  = "outbox"
spacing = "1ms"
[account.settings]
path = "DATA/outbox.jsonl"
`

func TestPostPublishedOnceAtItsTimeThroughOutboxProcess(t *testing.T) {
	dir := t.TempDir()
	d := startDaemon(t, dir, outboxConfig)
	d.ctl(t, "campaign", "create", "spring", "--account", "brand", "--topic", "gardening")

	// Far enough ahead for the creations (each validated by the plugin process) to finish
	// first, even on a loaded machine with the race detector.
	due := time.Now().Add(8 * time.Second)
	rejected := d.createPost(t, "spring", "Rejected: never to be seen", due)
	edited := d.createPost(t, "spring", "Edited after approval: needs a person again", due)
	d.ctl(t, "approve", fmt.Sprint(edited))
	d.ctl(t, "reject", fmt.Sprint(rejected), "--reason", "off-brand")
	if got := d.post(t, rejected).State; got != "rejected" {
		t.Fatalf("rejected post is %s", got)
	}
	var p postView
	code := d.api(t, "PATCH", fmt.Sprintf("/api/v1/posts/%d", edited), map[string]any{"text": "Edited after approval: now pending"}, &p)
	if code != 200 || p.State != "pending" {
		t.Fatalf("edit of an approved post: %d, state %q (want 200, pending)", code, p.State)
	}
	id := d.createPost(t, "spring", "Tulips are in: 10% off bulbs this week", due)
	// The sentinel is due last: once it is out, every other post's time has passed.
	sentinel := d.createPost(t, "spring", "Sentinel", due.Add(time.Second))
	d.ctl(t, "approve", fmt.Sprint(id), fmt.Sprint(sentinel))

	outbox := filepath.Join(dir, "outbox.jsonl")
	eventually(t, 30*time.Second, "the approved posts to be published", func() bool {
		return d.post(t, sentinel).State == "published"
	})
	if time.Now().Before(due) {
		t.Fatalf("published before its due time %s", due)
	}
	lines := outboxLines(t, outbox)
	if n := countText(lines, "Tulips are in: 10% off bulbs this week"); n != 1 {
		t.Fatalf("published %d times, want exactly once; outbox: %v", n, lines)
	}
	// The rejected and the edited (pending) posts were due at the same time: never sent.
	if len(lines) != 2 {
		t.Fatalf("outbox has %d lines, want 2 (the post and the sentinel): %v", len(lines), lines)
	}
	if st := d.post(t, edited).State; st != "pending" {
		t.Fatalf("edited post is %s, want pending", st)
	}
	pv := d.post(t, id)
	if len(pv.Deliveries) != 1 || pv.Deliveries[0].State != "published" || pv.Deliveries[0].RemoteID == "" {
		t.Fatalf("delivery receipt missing: %+v", pv.Deliveries)
	}
}

func TestPausedCampaignNeverPublishesThenResumeSends(t *testing.T) {
	dir := t.TempDir()
	d := startDaemon(t, dir, outboxConfig)
	d.ctl(t, "campaign", "create", "flights", "--account", "brand", "--topic", "travel")
	d.ctl(t, "campaign", "create", "knits", "--account", "brand", "--topic", "crafts")

	// The campaign is paused before its post is approved, so the pause is in force whatever
	// the timing; the post is then due while its campaign is paused.
	now := time.Now()
	d.ctl(t, "campaign", "pause", "flights", "--reason", "brand review")
	flight := d.createPost(t, "flights", "Fly to Lisbon from €49", now.Add(4*time.Second))
	knit := d.createPost(t, "knits", "Scarf pattern of the week", now.Add(5*time.Second))
	d.ctl(t, "approve", fmt.Sprint(flight), fmt.Sprint(knit))

	// The knitting post is due after the flight post: once it is out, the flight post's
	// time has passed too, and it must not have gone.
	eventually(t, 30*time.Second, "the unrelated campaign's post to publish", func() bool {
		return d.post(t, knit).State == "published"
	})
	lines := outboxLines(t, filepath.Join(dir, "outbox.jsonl"))
	if countText(lines, "Fly to Lisbon from €49") != 0 {
		t.Fatalf("a paused campaign published: %v", lines)
	}
	if st := d.post(t, flight).State; st != "approved" {
		t.Fatalf("paused campaign's due post is %s, want approved (waiting for the resume)", st)
	}
	// Resumed within `late` (default 30m): it goes out, once.
	d.ctl(t, "campaign", "resume", "flights")
	eventually(t, 30*time.Second, "the resumed campaign's post to publish", func() bool {
		return d.post(t, flight).State == "published"
	})
	if n := countText(outboxLines(t, filepath.Join(dir, "outbox.jsonl")), "Fly to Lisbon from €49"); n != 1 {
		t.Fatalf("published %d times after resume, want 1", n)
	}
}

func TestBadConfigRefusedWithLine(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "tact.toml")
	os.WriteFile(cfg, []byte("[daemon]\ndata_dir = \""+dir+"\"\nlisten_addr = \"127.0.0.1:1\"\n"), 0o600)
	var out, errb bytes.Buffer
	cmd := exec.Command(filepath.Join(binDir, "tactd"), "--config", cfg)
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if err == nil {
		t.Fatal("tactd started with an unknown key")
	}
	want := cfg + `:3: unknown key "listen_addr" in [daemon]`
	if !strings.Contains(errb.String(), want) {
		t.Fatalf("stderr %q does not say %q", errb.String(), want)
	}
	if _, err := os.Stat(filepath.Join(dir, "tact.db")); err == nil {
		t.Fatal("a refused config still created a database")
	}
}
