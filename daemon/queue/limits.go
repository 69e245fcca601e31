package queue

import (
	"fmt"
	"strings"
	"time"
)

// Limits bound what one campaign may ask of the daemon, so that a slip of the keyboard
// ("lead": "100000h" on a schedule that fires every minute) cannot fill the database with
// posts nobody will read: how far ahead of its ticks a recurring campaign's posts are made,
// and how many posts one campaign may have open at once. tact.toml sets them ([daemon]
// max_lead and max_open_posts_per_campaign, see docs/operations.md); the store refuses what
// goes beyond, and the scheduler stops making a campaign's posts at the open-post limit.
type Limits struct {
	MaxLead      time.Duration // longest lead a campaign may have
	MaxOpenPosts int           // most open posts (OpenStates) one campaign may have
}

// Defaults of Limits. Ninety days is further ahead than people plan a recurring campaign's
// posts; ten thousand open posts is one full import (importer.MaxRows) and more than any
// person reviews, yet small enough for the queue to stay quick.
const (
	DefaultMaxLead      = 90 * 24 * time.Hour
	DefaultMaxOpenPosts = 10000
)

// DefaultLimits returns the limits that apply when tact.toml sets none.
func DefaultLimits() Limits {
	return Limits{MaxLead: DefaultMaxLead, MaxOpenPosts: DefaultMaxOpenPosts}
}

// OrDefault returns l with its zero (unset) fields replaced by the defaults.
func (l Limits) OrDefault() Limits {
	if l.MaxLead <= 0 {
		l.MaxLead = DefaultMaxLead
	}
	if l.MaxOpenPosts <= 0 {
		l.MaxOpenPosts = DefaultMaxOpenPosts
	}
	return l
}

// OpenStates are the states of a post that is not done with: it may still be published.
// Posts in these states count against Limits.MaxOpenPosts.
var OpenStates = []PostState{PostDraft, PostPending, PostApproved, PostHeld, PostPublishing}

// FieldOpenPosts is the field of the error CheckOpen returns: the campaign's open_posts.
const FieldOpenPosts = "open_posts"

// CheckLead refuses a lead beyond MaxLead, naming the field, the limit and what to do.
func (l Limits) CheckLead(lead Duration) error {
	l = l.OrDefault()
	if lead.D() <= l.MaxLead {
		return nil
	}
	return Errorf(Invalid, "lead", "lead %s is longer than the longest allowed, %s ([daemon] max_lead in tact.toml): a recurring campaign's posts are made at most that long before their tick; give a shorter lead (the default is %s), or ask an admin to raise max_lead",
		ShortDuration(lead.D()), ShortDuration(l.MaxLead), ShortDuration(DefaultLead))
}

// CheckOpen refuses adding posts to campaign when it would then have more than
// MaxOpenPosts open. The error is a Conflict on FieldOpenPosts (IsOpenLimit): the request
// may succeed later, once some of the campaign's posts are published, rejected or deleted.
func (l Limits) CheckOpen(campaign string, open, adding int) error {
	l = l.OrDefault()
	if open+adding <= l.MaxOpenPosts {
		return nil
	}
	return Errorf(Conflict, FieldOpenPosts, "campaign %q has %d open posts (%s), and one campaign may have at most %d ([daemon] max_open_posts_per_campaign in tact.toml): nothing was added; wait until some are published, reject or delete some, or ask an admin to raise the limit",
		campaign, open, joinStates(OpenStates), l.MaxOpenPosts)
}

// IsOpenLimit reports whether err is CheckOpen's refusal.
func IsOpenLimit(err error) bool {
	return ErrorKind(err) == Conflict && ErrorField(err) == FieldOpenPosts
}

// Problem says what keeps c from working as configured under l, given its open posts, or
// "" when nothing does. It is shown with the campaign (the API's "problem") so that a
// campaign held back by a limit is seen, not found out later.
func (l Limits) Problem(c *Campaign, open int) string {
	l = l.OrDefault()
	var ps []string
	if open >= l.MaxOpenPosts {
		what := "new posts are refused"
		if c.Schedule != "" {
			what = "its schedule makes no new posts, and new posts are refused,"
		}
		ps = append(ps, fmt.Sprintf("it has %d open posts, the most a campaign may have ([daemon] max_open_posts_per_campaign): %s until some are published, rejected or deleted", open, what))
	}
	if c.Schedule != "" && c.Lead.D() > l.MaxLead {
		ps = append(ps, fmt.Sprintf("its lead %s is longer than [daemon] max_lead %s: its posts are made only %s ahead; edit its lead", ShortDuration(c.Lead.D()), ShortDuration(l.MaxLead), ShortDuration(l.MaxLead)))
	}
	return strings.Join(ps, "; ")
}

// ShortDuration writes d as people write it: "48h", "1h30m", "45s", not "48h0m0s".
func ShortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
