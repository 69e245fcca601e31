package watch

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/tact-hq/tact/daemon/api"
	"github.com/tact-hq/tact/daemon/queue"
	"github.com/tact-hq/tact/rules"
)

// The API's and the web UI's queue pages read the open incidents once per page through it.
var _ api.PageWarner = (*Watcher)(nil)

// WarningsVersion changes whenever PostWarnings could answer differently with the same
// database: when the rules in force change (everything else it reads is stored).
func (w *Watcher) WarningsVersion() uint64 { return w.rules.Generation() }

// PostWarnings says, for the queue UI, which open incidents cover a post and which rules
// flagged it. A page of posts asks PageWarnings instead, which reads the incidents once.
func (w *Watcher) PostWarnings(ctx context.Context, c *queue.Campaign, p *queue.Post) []string {
	_, warn, _ := w.PageWarnings(ctx)
	return warn(c, p)
}

// PageWarnings reads the open incidents once, for a page of the queue, and returns how many
// are open and the function that says which of them cover a post and which rules flagged
// it, as PostWarnings does, from what was read: it reads nothing more (a page of 100 posts
// once read the open incidents 100 times, which under an incident made the queue listing
// fall over; see docs/performance.md). The function may be called from several goroutines.
//
// What it computes is kept for the next pages (see pageCache): while the database is
// unchanged the incidents are not read again, and while the open incidents are the same,
// the incident warnings of each distinct post are matched once.
//
// When the incidents cannot be read, err says why and the function gives every post that
// error as its warning (a page shown anyway says why its warnings are missing).
func (w *Watcher) PageWarnings(ctx context.Context) (open int, warn func(c *queue.Campaign, p *queue.Post) []string, err error) {
	pg, err := w.pages.current(ctx, w)
	if err != nil {
		failed := []string{"open incidents could not be read: " + err.Error()}
		return 0, func(*queue.Campaign, *queue.Post) []string { return failed }, err
	}
	return pg.open, func(c *queue.Campaign, p *queue.Post) []string { return w.warnings(pg, c, p) }, nil
}

// incidentsVersioned is a store that says whether any incident or its evidence changed
// since (sqlite.DB: a counter its triggers move, by any connection or process).
type incidentsVersioned interface {
	IncidentsVersion(ctx context.Context) (uint64, error)
}

// pageCache keeps the open incidents as the last page read them. A queue page is built
// again after every commit (each approval, each publish), and the pages built after one
// commit are many at once (every listing people keep open), while the open incidents
// change a few times a day: reading and matching them again for each page made an open
// incident cost a page about as much again as the page itself.
//
// So the kept page stands while the incidents' own version does (not the whole database's:
// an approval does not make the incidents be read again), and when it moved, one build
// reads them for all the pages that ask at the same moment (the others wait for it).
type pageCache struct {
	build chan struct{} // holds a token while one caller reads the incidents (made by New)

	mu      sync.Mutex
	page    *incidentPage
	version uint64 // the store's incidents version before page was read
	gen     uint64 // the rules' generation before page was read
	valid   bool   // version and gen say when page is still the current one
}

// kept returns the kept page if it is still the current one for version and gen.
func (pc *pageCache) kept(versioned bool, version, gen uint64) *incidentPage {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	if pc.page != nil && pc.valid && versioned && pc.version == version && pc.gen == gen {
		return pc.page
	}
	return nil
}

// current returns the open incidents as they are now: the kept page while the incidents and
// the rules are unchanged, else read again (keeping what was matched if they are the same).
func (pc *pageCache) current(ctx context.Context, w *Watcher) (*incidentPage, error) {
	// Versions first, then the read: what is read is at least as new as the versions say.
	gen := w.rules.Generation()
	version, versioned := uint64(0), false
	if vs, ok := w.st.(incidentsVersioned); ok {
		var err error
		// On an error, the read below meets the same trouble, or reads anyway.
		version, err = vs.IncidentsVersion(ctx)
		versioned = err == nil
	}
	if kept := pc.kept(versioned, version, gen); kept != nil {
		return kept, nil
	}
	// One read at a time: the pages that ask while it runs take what it read.
	select {
	case pc.build <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-pc.build }()
	if kept := pc.kept(versioned, version, gen); kept != nil {
		return kept, nil
	}

	incs, err := w.st.Incidents(ctx, openOnly)
	if err != nil {
		return nil, err
	}
	pg := w.incidentPage(incs)
	pc.mu.Lock()
	defer pc.mu.Unlock()
	if kept := pc.page; kept != nil && kept.key == pg.key {
		pg = kept // the same incidents, rules and news: keep what was matched
	}
	pc.page, pc.version, pc.gen, pc.valid = pg, version, gen, versioned
	return pg, nil
}

// incidentPage is what the open incidents say about posts, read once: each incident's rule
// and news, and the incident warnings already matched per post text and topics.
type incidentPage struct {
	open   int
	covers []incidentWarning
	key    string // everything a post's incident warnings depend on, but the post

	mu      sync.Mutex
	matched map[string]postCover
}

// maxMatched bounds the posts whose incident warnings a page keeps (about 4 MB); beyond,
// they are forgotten together and matched again.
const maxMatched = 10000

// postCover is a post's incident warnings and the rules that gave them.
type postCover struct {
	warnings []string
	rules    []string
}

// incidentWarning is what a page needs of one open incident to warn about the posts it
// covers: its rule and news (read once for the page), and the text around the reason of
// each match.
type incidentWarning struct {
	ruleID     string
	rule       *rules.Rule
	set        *rules.Set
	news       rules.PreparedNews
	head, tail string
}

func (w *Watcher) incidentPage(incs []*queue.Incident) *incidentPage {
	pg := &incidentPage{open: len(incs), matched: map[string]postCover{}}
	var key strings.Builder
	for _, in := range incs {
		r, set := w.rules.Rule(in.RuleID)
		if r == nil {
			continue
		}
		news := newsOf(in)
		iw := incidentWarning{
			ruleID: in.RuleID, rule: r, set: set, news: rules.PrepareNews(news),
			head: fmt.Sprintf("Incident #%d, rule %s (%s): ", in.ID, in.RuleID, in.Action),
			tail: fmt.Sprintf(" — %s; closes %s", headlines(in.Evidence, 1), in.ClosesAt.Format(time.RFC3339)),
		}
		pg.covers = append(pg.covers, iw)
		// The rule and set by identity: the kept page holds them, so no other can be
		// allocated where they are while the key is compared.
		fmt.Fprintf(&key, "%p %p %q %q", r, set, iw.head, iw.tail)
		for _, n := range news {
			fmt.Fprintf(&key, " %q %q %q %q", n.Title, n.Summary, n.Source, n.Language)
		}
		key.WriteByte('\n')
	}
	pg.key = key.String()
	return pg
}

// cover is a post's incident warnings against the page's incidents, matched once per post
// text and topics. The post is read once for all the incidents (once per rule set: an
// incident whose rule a reload removed matches with the set it was loaded in).
func (pg *incidentPage) cover(c *queue.Campaign, p *queue.Post) postCover {
	if len(pg.covers) == 0 {
		return postCover{}
	}
	k := p.Text + "\x00" + strings.Join(c.Topics, "\x00")
	pg.mu.Lock()
	pc, ok := pg.matched[k]
	pg.mu.Unlock()
	if ok {
		return pc
	}
	var post rules.PreparedPost
	var preparedBy *rules.Set
	for _, iw := range pg.covers {
		if iw.set != preparedBy {
			post, preparedBy = iw.set.PreparePost(rules.PostInput{Text: p.Text, Topics: c.Topics}), iw.set
		}
		m, ok := iw.set.MatchPrepared(iw.rule, post, iw.news)
		if !ok {
			continue
		}
		pc.rules = append(pc.rules, iw.ruleID)
		pc.warnings = append(pc.warnings, iw.head+m.Reason()+iw.tail)
	}
	pg.mu.Lock()
	if len(pg.matched) >= maxMatched {
		clear(pg.matched)
	}
	pg.matched[k] = pc
	pg.mu.Unlock()
	return pc
}

// warnings is one post's warnings against the incidents of its page, then its flags.
func (w *Watcher) warnings(pg *incidentPage, c *queue.Campaign, p *queue.Post) []string {
	pc := pg.cover(c, p)
	var out []string
	if len(pc.warnings) > 0 {
		out = append(out, pc.warnings...) // a copy: the kept slice is shared
	}
	for _, id := range p.Flags {
		if slices.Contains(pc.rules, id) {
			continue // already explained by its open incident above
		}
		desc := ""
		if r, _ := w.rules.Rule(id); r != nil && r.Description != "" {
			desc = ": " + r.Description
		}
		out = append(out, fmt.Sprintf("Flagged by rule %s%s", id, desc))
	}
	return out
}
