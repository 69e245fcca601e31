package queue

import (
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/tact-hq/tact/daemon/cron"
)

// Validate checks a campaign as a person typed it and fills the defaults (approval
// required, veto 2h, late 30m, lead 48h or MaxLead if shorter), so that what is stored is
// what applies. l bounds the lead (Limits.CheckLead). Names and account lists are trimmed
// and deduplicated. Every store calls it before writing a campaign, and front ends may call
// it to refuse bad input before asking the store; the errors are Invalid, on the field.
// The fields and their defaults are in docs/operations.md and docs/api.md.
func (c *Campaign) Validate(l Limits) error {
	l = l.OrDefault()
	c.Name = strings.TrimSpace(c.Name)
	if c.Name == "" {
		return Errorf(Invalid, "name", "a campaign needs a name")
	}
	c.Accounts = dedupe(c.Accounts)
	if len(c.Accounts) == 0 {
		return Errorf(Invalid, "accounts", "campaign %q needs at least one account to post to", c.Name)
	}
	for _, a := range c.Accounts {
		if strings.TrimSpace(a) == "" {
			return Errorf(Invalid, "accounts", "campaign %q has an empty account name", c.Name)
		}
	}
	c.Topics = nonEmpty(dedupe(c.Topics))
	if c.Approval == "" {
		c.Approval = ApprovalRequired
	}
	if !c.Approval.Valid() {
		return Errorf(Invalid, "approval", "unknown approval mode %q: use %q or %q", c.Approval, ApprovalRequired, ApprovalAutopilot)
	}
	if c.TimeZone != "" { // "" is the daemon's default zone
		if _, err := LoadZone("timezone", c.TimeZone); err != nil {
			return err
		}
	}
	for _, d := range []struct {
		field string
		v     *Duration
		def   time.Duration
	}{{"veto", &c.Veto, DefaultVeto}, {"late", &c.Late, DefaultLate}, {"lead", &c.Lead, min(DefaultLead, l.MaxLead)}} {
		if *d.v < 0 {
			return Errorf(Invalid, d.field, "%s must not be negative (got %s)", d.field, d.v.D())
		}
		if *d.v == 0 {
			*d.v = Duration(d.def)
		}
	}
	if err := l.CheckLead(c.Lead); err != nil {
		return err
	}
	if c.Schedule != "" {
		if err := CheckSchedule(c.Schedule, c.TimeZone); err != nil {
			return err
		}
	}
	if c.PoolCursor < 0 {
		return Errorf(Invalid, "pool_cursor", "pool cursor must not be negative")
	}
	return nil
}

// CheckSchedule reports whether spec, read in zone tz unless it names its own (CRON_TZ=), is
// a schedule the daemon accepts (daemon/cron decides). The error is Invalid on "schedule" or
// "timezone". Campaign.Validate calls it, and so do front ends checking a spec before they
// store it: one answer everywhere.
func CheckSchedule(spec, tz string) error {
	err := cron.Validate(spec, tz)
	var e *cron.Error
	if errors.As(err, &e) {
		return &Error{Kind: Invalid, Field: e.Field, Message: e.Message}
	}
	return err
}

// LateAfter is how long after its due time a post of c may still be published: the
// campaign's Late, or DefaultLate when it sets none (docs/operations.md, "late").
func (c *Campaign) LateAfter() time.Duration {
	if c.Late <= 0 {
		return DefaultLate
	}
	return c.Late.D()
}

// Check validates a post's content against its campaign c and fills the defaults: the
// campaign's accounts when the post names none, the due time in UTC, account names trimmed
// and deduplicated, empty media and problems dropped. It does not ask the networks: a
// post's Problems come from the plugins' Validate, through the caller. Every store calls it
// before writing a post; front ends may call it first. The errors are Invalid, on the field.
func (p *Post) Check(c *Campaign) error {
	if strings.TrimSpace(p.Text) == "" {
		return Errorf(Invalid, "text", "a post needs text")
	}
	if p.DueAt.IsZero() {
		return Errorf(Invalid, "due_at", "a post needs the time it is due")
	}
	p.DueAt = p.DueAt.UTC()
	if len(p.Accounts) == 0 {
		p.Accounts = slices.Clone(c.Accounts)
	}
	p.Accounts = dedupe(p.Accounts)
	for _, a := range p.Accounts {
		if !slices.Contains(c.Accounts, a) {
			return Errorf(Invalid, "accounts", "account %q is not one of campaign %q's accounts (%s)", a, c.Name, strings.Join(c.Accounts, ", "))
		}
	}
	p.Media = nonEmpty(p.Media)
	p.Problems = nonEmpty(p.Problems)
	return nil
}

// CheckNew checks what a new post may start as, filling the default: draft or pending
// (the default), nothing else. A post cannot be added to an archived campaign c.
func (p *Post) CheckNew(c *Campaign) error {
	if c.State == CampaignArchived {
		return Errorf(Conflict, "campaign", "campaign %q is archived: unarchive it before adding posts", c.Name)
	}
	switch p.State {
	case "":
		p.State = PostPending
	case PostDraft, PostPending:
	default:
		return Errorf(Invalid, "state", "a new post is draft or pending, not %s", p.State)
	}
	if err := p.Check(c); err != nil {
		return err
	}
	p.Reason, p.ApprovedBy, p.ApprovedAt = "", "", time.Time{}
	p.Flags = dedupe(nonEmpty(p.Flags))
	return nil
}

// Incident actions and resume modes (docs/rules.md).
const (
	ActionPause = "pause"
	ActionHold  = "hold"
	ActionFlag  = "flag"

	ResumeManual = "manual"
	ResumeAuto   = "auto"
)

// Validate checks an incident about to be recorded and fills the defaults: resume manual,
// opened by its rule.
func (in *Incident) Validate() error {
	if strings.TrimSpace(in.RuleID) == "" {
		return Errorf(Invalid, "rule_id", "an incident needs the id of its rule")
	}
	if !slices.Contains([]string{ActionPause, ActionHold, ActionFlag}, in.Action) {
		return Errorf(Invalid, "action", "incident action %q: use pause, hold or flag", in.Action)
	}
	if in.Resume == "" {
		in.Resume = ResumeManual
	}
	if in.Resume != ResumeManual && in.Resume != ResumeAuto {
		return Errorf(Invalid, "resume", "incident resume %q: use manual or auto", in.Resume)
	}
	if in.ClosesAt.IsZero() {
		return Errorf(Invalid, "closes_at", "incident for rule %s needs the time it closes (its latest item plus the rule's window)", in.RuleID)
	}
	if in.OpenedBy.Kind == "" {
		in.OpenedBy = Actor{Kind: ActorRule, Name: in.RuleID}
	}
	return nil
}

// Validate checks a pause (who and why) and dates it now when it has no time.
func (p *Pause) Validate(now time.Time) error {
	if p.By.Kind == "" || p.By.Name == "" {
		return Errorf(Invalid, "by", "a pause must say who paused (a person or a rule)")
	}
	p.Reason = strings.TrimSpace(p.Reason)
	if p.Reason == "" {
		return Errorf(Invalid, "reason", "a pause needs a reason, so that people know when to resume")
	}
	if p.At.IsZero() {
		p.At = now
	}
	p.At = p.At.UTC()
	return nil
}

// Defaults of AccountLimit (docs/operations.md, [[accounts]] concurrency and spacing).
const (
	DefaultConcurrency = 1
	DefaultSpacing     = time.Minute
)

// OrDefault returns the throttle that applies: a zero Concurrency or Spacing means the
// default (1, 1m); a negative Spacing means no spacing at all (0).
func (l AccountLimit) OrDefault() AccountLimit {
	if l.Concurrency <= 0 {
		l.Concurrency = DefaultConcurrency
	}
	switch {
	case l.Spacing == 0:
		l.Spacing = DefaultSpacing
	case l.Spacing < 0:
		l.Spacing = 0
	}
	return l
}

// LimitOf returns the throttle that applies to account under limits (OrDefault of its
// entry; an account missing from limits gets the defaults).
func LimitOf(limits map[string]AccountLimit, account string) AccountLimit {
	return limits[account].OrDefault()
}

// Names trims names and drops repeats, keeping the first occurrence's order. An empty name
// is kept (once) so that validation can point at it.
func Names(ss []string) []string { return dedupe(ss) }

// NonEmpty drops the blank strings of ss.
func NonEmpty(ss []string) []string { return nonEmpty(ss) }

func dedupe(ss []string) []string {
	var out []string
	seen := make(map[string]bool, len(ss))
	for _, s := range ss {
		s = strings.TrimSpace(s)
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

func nonEmpty(ss []string) []string {
	var out []string
	for _, s := range ss {
		if strings.TrimSpace(s) != "" {
			out = append(out, s)
		}
	}
	return out
}
