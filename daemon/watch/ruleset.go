package watch

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fsnotify/fsnotify"

	"github.com/tact-hq/tact/daemon/api"
	"github.com/tact-hq/tact/daemon/notify"
	"github.com/tact-hq/tact/daemon/queue"
	"github.com/tact-hq/tact/rules"
)

// RulesOptions configure a rule set manager.
type RulesOptions struct {
	// Store receives the audit entries of reloads and serves Preview's context and queue.
	Store queue.Store
	// Notifier is told when a reload fails. Default: notify.Discard.
	Notifier notify.Notifier
	Logger   *slog.Logger
	Now      func() time.Time
	// Debounce is how long file changes must settle before a reload (editors write a file
	// in several steps). Default 300ms.
	Debounce time.Duration
	// PreviewWindow is how far back Preview looks in the context. Default 72h.
	PreviewWindow time.Duration
}

// Rules is the rule set in force. It loads the rule globs at start, reloads them on
// Reload (SIGHUP) and when the files change (Watch), and swaps in a new set only once it is
// complete and valid: on error the previous set stays in force, and the error is logged,
// kept for Status, audited and notified (the Prometheus way of reloading).
type Rules struct {
	globs []string
	opt   RulesOptions
	log   *slog.Logger

	cur atomic.Pointer[loadedSet]
	// gen moves on after each swap of cur (and of retired): answers built from the rules
	// (the queue's safety warnings) are kept only while it stays the same.
	gen atomic.Uint64

	reloadMu sync.Mutex // one reload at a time

	mu         sync.Mutex
	lastAt     time.Time
	lastErr    string
	reloadsOK  int64
	reloadsBad int64
	// retired keeps the last version of rules that reloads removed, so that incidents
	// they opened keep gating posts as they did until they close (see Rule).
	retired map[string]retiredRule
}

// retiredRule is a rule a reload removed, with the set it was compiled in (a rule is only
// matched by its own set).
type retiredRule struct {
	rule *rules.Rule
	set  *rules.Set
}

// loadedSet is one complete, valid rule set and where it came from.
type loadedSet struct {
	set    *rules.Set
	files  []string
	digest [32]byte // of the files' names and contents: file events that change nothing are ignored
	at     time.Time
}

// NewRules loads the rule files matching globs. An invalid set is an error (a *rules.Errors
// listing FILE:LINE problems): the daemon must refuse to start with it.
func NewRules(ctx context.Context, globs []string, opt RulesOptions) (*Rules, error) {
	if opt.Notifier == nil {
		opt.Notifier = notify.Discard{}
	}
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Debounce <= 0 {
		opt.Debounce = 300 * time.Millisecond
	}
	if opt.PreviewWindow <= 0 {
		opt.PreviewWindow = 72 * time.Hour
	}
	r := &Rules{globs: append([]string(nil), globs...), opt: opt, log: opt.Logger.With("component", "rules"), retired: map[string]retiredRule{}}
	ls, err := r.load()
	if err != nil {
		return nil, err
	}
	r.cur.Store(ls)
	r.log.Info("rules loaded", "rules", ls.set.Len(), "files", len(ls.files))
	return r, nil
}

// load builds a complete new set from the files on disk.
func (r *Rules) load() (*loadedSet, error) {
	files, digest, err := r.snapshot()
	if err != nil {
		return nil, err
	}
	set, err := rules.LoadFiles(r.globs)
	if err != nil {
		return nil, err
	}
	return &loadedSet{set: set, files: files, digest: digest, at: r.opt.Now().UTC()}, nil
}

// snapshot lists the rule files (not the *.test.toml files beside them) and digests their
// names and contents.
func (r *Rules) snapshot() ([]string, [32]byte, error) {
	files, err := rules.ExpandGlobs(r.globs)
	if err != nil {
		return nil, [32]byte{}, err
	}
	h := sha256.New()
	for _, f := range files {
		fmt.Fprintf(h, "%s\x00", f)
		fh, err := os.Open(f)
		if err != nil {
			// LoadFiles will report it properly; the digest just has to differ.
			fmt.Fprintf(h, "unreadable:%v\x00", err)
			continue
		}
		_, _ = io.Copy(h, fh)
		fh.Close()
		h.Write([]byte{0})
	}
	var d [32]byte
	copy(d[:], h.Sum(nil))
	return files, d, nil
}

// Set returns the rule set in force. It never returns nil.
func (r *Rules) Set() *rules.Set { return r.cur.Load().set }

// Rule returns the rule with this id from the set in force or, when a reload removed it,
// its last version, so that an incident it opened keeps acting as it did until it closes;
// with the set to match it with. It returns nils for ids never loaded since the daemon started.
func (r *Rules) Rule(id string) (*rules.Rule, *rules.Set) {
	set := r.Set()
	if rule := set.Rule(id); rule != nil {
		return rule, set
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	old := r.retired[id]
	return old.rule, old.set
}

// Generation changes each time a reload swaps in a new set.
func (r *Rules) Generation() uint64 { return r.gen.Load() }

// Reload re-reads the rule files (SIGHUP). On error the previous set stays in force and the
// error, naming FILE:LINE, is returned, logged, kept for Status, audited and notified.
func (r *Rules) Reload(ctx context.Context) error {
	_, err := r.reload(ctx, "signal", false)
	return err
}

// reload builds and swaps; when onlyIfChanged, file events that left every rule file as it
// was do nothing (no audit entry for an editor touching a file).
func (r *Rules) reload(ctx context.Context, why string, onlyIfChanged bool) (changed bool, err error) {
	r.reloadMu.Lock()
	defer r.reloadMu.Unlock()
	old := r.cur.Load()
	if onlyIfChanged {
		if _, digest, err := r.snapshot(); err == nil && digest == old.digest {
			return false, nil
		}
	}
	now := r.opt.Now().UTC()
	ls, err := r.load()
	r.mu.Lock()
	r.lastAt = now
	if err != nil {
		r.lastErr = err.Error()
		r.reloadsBad++
	} else {
		r.lastErr = ""
		r.reloadsOK++
		for _, rule := range old.set.Rules() {
			if ls.set.Rule(rule.ID) == nil {
				r.retired[rule.ID] = retiredRule{rule: rule, set: old.set}
			}
		}
		for _, rule := range ls.set.Rules() {
			delete(r.retired, rule.ID)
		}
	}
	r.mu.Unlock()
	if err != nil {
		r.log.Error("rules reload failed: the previous rules stay in force", "trigger", why, "error", err)
		r.audit(ctx, "error: "+err.Error()+" (previous rules stay in force)")
		r.opt.Notifier.Notify(ctx, notify.Event{
			Kind: notify.RulesReloadError,
			Text: "Rule reload failed; the previous rules stay in force: " + firstLines(err.Error(), 5),
			At:   now,
		})
		return true, err
	}
	r.cur.Store(ls)
	r.gen.Add(1)
	r.log.Info("rules reloaded", "trigger", why, "rules", ls.set.Len(), "files", len(ls.files))
	r.audit(ctx, fmt.Sprintf("ok: %d rules from %d files", ls.set.Len(), len(ls.files)))
	return true, nil
}

func (r *Rules) audit(ctx context.Context, detail string) {
	if r.opt.Store == nil {
		return
	}
	// The audit entry must be written even if the caller's request is cancelled meanwhile.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := r.opt.Store.Audit(ctx, queue.AuditEntry{
		Actor: queue.System("rules"), Action: "rules.reload", Object: "rules", Detail: detail,
	}); err != nil {
		r.log.Error("cannot audit rules reload", "error", err)
	}
}

func firstLines(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) <= n {
		return s
	}
	return strings.Join(lines[:n], "\n") + fmt.Sprintf("\n… and %d more", len(lines)-n)
}

// Status returns the rules in force and the outcome of the last reload.
func (r *Rules) Status() api.RulesStatus {
	ls := r.cur.Load()
	st := api.RulesStatus{LoadedAt: ls.at, Files: append([]string(nil), ls.files...)}
	for _, rule := range ls.set.Rules() {
		st.Rules = append(st.Rules, api.RuleInfo{
			ID: rule.ID, Description: rule.Description, Action: rule.Action, Resume: rule.Resume,
			Window: rule.Window.String(), File: rule.File, Line: rule.Line,
		})
	}
	r.mu.Lock()
	st.LastReloadAt, st.LastReloadError = r.lastAt, r.lastErr
	r.mu.Unlock()
	return st
}

// ReloadCounts returns how many reloads succeeded and failed since start (for metrics).
func (r *Rules) ReloadCounts() (ok, failed int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.reloadsOK, r.reloadsBad
}

// Watch reloads the rules when files in the globs' directories change, after the changes
// have settled for the debounce delay, until ctx ends. Directories that cannot be watched
// are logged; SIGHUP still works for them.
func (r *Rules) Watch(ctx context.Context) error {
	fw, err := fsnotify.NewWatcher()
	if err != nil {
		return fmt.Errorf("cannot watch rule files for changes (SIGHUP still reloads them): %w", err)
	}
	defer fw.Close()
	dirs := map[string]bool{}
	for _, g := range r.globs {
		dir := filepath.Dir(g)
		if strings.ContainsAny(dir, "*?[") {
			r.log.Warn("rule glob has a pattern in its directory: changes there are not watched, use SIGHUP", "glob", g)
			continue
		}
		if dirs[dir] {
			continue
		}
		dirs[dir] = true
		if err := fw.Add(dir); err != nil {
			r.log.Warn("cannot watch rules directory: use SIGHUP to reload", "dir", dir, "error", err)
		}
	}
	// Changes made between loading and watching would otherwise go unnoticed until the next one.
	_, _ = r.reload(ctx, "file change", true)
	var timer *time.Timer
	var fire <-chan time.Time
	for {
		select {
		case <-ctx.Done():
			if timer != nil {
				timer.Stop()
			}
			return nil
		case ev, ok := <-fw.Events:
			if !ok {
				return nil
			}
			if !r.relevant(ev) {
				continue
			}
			if timer == nil {
				timer = time.NewTimer(r.opt.Debounce)
			} else {
				timer.Reset(r.opt.Debounce)
			}
			fire = timer.C
		case err, ok := <-fw.Errors:
			if !ok {
				return nil
			}
			r.log.Warn("rule file watcher error", "error", err)
		case <-fire:
			fire = nil
			_, _ = r.reload(ctx, "file change", true)
		}
	}
}

// relevant reports whether a file event may change the rule set: a rule file (matching a
// glob) was written, created, removed or renamed, or a "..data"-style symlink swap happened
// (Kubernetes ConfigMaps). Permission changes alone are ignored.
func (r *Rules) relevant(ev fsnotify.Event) bool {
	if ev.Op == fsnotify.Chmod {
		return false
	}
	if strings.HasPrefix(filepath.Base(ev.Name), "..") {
		return true
	}
	if rules.IsTestFile(ev.Name) {
		return false
	}
	for _, g := range r.globs {
		if ok, _ := filepath.Match(g, ev.Name); ok {
			return true
		}
	}
	return false
}
