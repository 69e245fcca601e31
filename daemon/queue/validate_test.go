package queue

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestCampaignValidate(t *testing.T) {
	for _, tc := range []struct {
		name, field, says string
		mod               func(*Campaign)
	}{
		{"empty name", "name", "needs a name", func(c *Campaign) { c.Name = "  " }},
		{"no accounts", "accounts", "at least one account", func(c *Campaign) { c.Accounts = nil }},
		{"blank account", "accounts", "empty account name", func(c *Campaign) { c.Accounts = []string{"a", " "} }},
		{"bad approval", "approval", `"required" or "autopilot"`, func(c *Campaign) { c.Approval = "sometimes" }},
		{"bad zone", "timezone", "unknown time zone", func(c *Campaign) { c.TimeZone = "Mars/Olympus" }},
		{"host zone", "timezone", "host's zone", func(c *Campaign) { c.TimeZone = "Local" }},
		{"negative veto", "veto", "must not be negative", func(c *Campaign) { c.Veto = Duration(-time.Minute) }},
		{"negative late", "late", "must not be negative", func(c *Campaign) { c.Late = Duration(-time.Minute) }},
		{"negative lead", "lead", "must not be negative", func(c *Campaign) { c.Lead = Duration(-time.Hour) }},
		{"lead beyond max_lead", "lead", "max_lead", func(c *Campaign) { c.Lead = Duration(DefaultMaxLead + time.Hour) }},
		{"bad schedule", "schedule", "cron spec", func(c *Campaign) { c.Schedule = "every tuesday" }},
		{"schedule in a bad zone", "timezone", "unknown time zone", func(c *Campaign) { c.Schedule = "0 9 * * *"; c.TimeZone = "Nowhere/City" }},
		{"negative pool cursor", "pool_cursor", "must not be negative", func(c *Campaign) { c.PoolCursor = -1 }},
	} {
		c := &Campaign{Name: "spring", Accounts: []string{"mastodon-main"}}
		tc.mod(c)
		err := c.Validate(DefaultLimits())
		if ErrorKind(err) != Invalid || ErrorField(err) != tc.field || !strings.Contains(err.Error(), tc.says) {
			t.Errorf("%s: Validate = %v (field %q), want Invalid on %q saying %q", tc.name, err, ErrorField(err), tc.field, tc.says)
		}
	}

	c := &Campaign{Name: " spring ", Accounts: []string{" a", "b", "a"}, Topics: []string{"travel", " ", "travel"},
		Schedule: "CRON_TZ=Europe/Paris 0 9 * * 1-5"}
	if err := c.Validate(Limits{MaxLead: 24 * time.Hour}); err != nil {
		t.Fatal(err)
	}
	if c.Name != "spring" || !slices.Equal(c.Accounts, []string{"a", "b"}) || !slices.Equal(c.Topics, []string{"travel"}) {
		t.Errorf("names not trimmed and deduplicated: %q %q %q", c.Name, c.Accounts, c.Topics)
	}
	if c.Approval != ApprovalRequired || c.Veto.D() != DefaultVeto || c.Late.D() != DefaultLate || c.Lead.D() != 24*time.Hour {
		t.Errorf("defaults: approval %s veto %s late %s lead %s; want required, 2h, 30m and the 24h max_lead (shorter than 48h)",
			c.Approval, c.Veto.D(), c.Late.D(), c.Lead.D())
	}
	if got := (&Campaign{}).LateAfter(); got != DefaultLate {
		t.Errorf("LateAfter of a campaign without late = %s, want %s", got, DefaultLate)
	}
}

func TestPostCheck(t *testing.T) {
	due := time.Date(2026, 3, 2, 9, 0, 0, 0, time.FixedZone("CET", 3600))
	c := &Campaign{Name: "spring", Accounts: []string{"a", "b"}, State: CampaignActive}
	for _, tc := range []struct {
		name, field string
		kind        Kind
		p           Post
		c           *Campaign
	}{
		{"no text", "text", Invalid, Post{Text: " ", DueAt: due}, c},
		{"no due time", "due_at", Invalid, Post{Text: "hi"}, c},
		{"account not the campaign's", "accounts", Invalid, Post{Text: "hi", DueAt: due, Accounts: []string{"c"}}, c},
		{"new post already approved", "state", Invalid, Post{Text: "hi", DueAt: due, State: PostApproved}, c},
		{"archived campaign", "campaign", Conflict, Post{Text: "hi", DueAt: due}, &Campaign{Name: "old", Accounts: []string{"a"}, State: CampaignArchived}},
	} {
		p := tc.p
		err := p.CheckNew(tc.c)
		if ErrorKind(err) != tc.kind || ErrorField(err) != tc.field {
			t.Errorf("%s: CheckNew = %v (field %q), want %s on %q", tc.name, err, ErrorField(err), tc.kind, tc.field)
		}
	}
	p := Post{Text: "hi", DueAt: due, Media: []string{"", "m1"}, Problems: []string{" "}, Flags: []string{"r", "r", ""},
		Reason: "old", ApprovedBy: "user:ann"}
	if err := p.CheckNew(c); err != nil {
		t.Fatal(err)
	}
	if p.State != PostPending || !slices.Equal(p.Accounts, c.Accounts) || p.DueAt.Location() != time.UTC ||
		!slices.Equal(p.Media, []string{"m1"}) || p.Problems != nil || !slices.Equal(p.Flags, []string{"r"}) || p.Reason != "" || p.ApprovedBy != "" {
		t.Errorf("defaults not filled: %+v", p)
	}
}

func TestIncidentAndPauseValidate(t *testing.T) {
	closes := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name, field string
		in          Incident
	}{
		{"no rule", "rule_id", Incident{Action: ActionPause, ClosesAt: closes}},
		{"bad action", "action", Incident{RuleID: "r", Action: "stop", ClosesAt: closes}},
		{"bad resume", "resume", Incident{RuleID: "r", Action: ActionHold, Resume: "later", ClosesAt: closes}},
		{"no close time", "closes_at", Incident{RuleID: "r", Action: ActionFlag}},
	} {
		if err := tc.in.Validate(); ErrorKind(err) != Invalid || ErrorField(err) != tc.field {
			t.Errorf("%s: Validate = %v, want Invalid on %q", tc.name, err, tc.field)
		}
	}
	in := Incident{RuleID: "crash", Action: ActionPause, ClosesAt: closes}
	if err := in.Validate(); err != nil || in.Resume != ResumeManual || in.OpenedBy != (Actor{Kind: ActorRule, Name: "crash"}) {
		t.Errorf("Validate = %v, resume %q, opened by %s; want manual, rule:crash", err, in.Resume, in.OpenedBy)
	}

	now := time.Date(2026, 3, 2, 10, 0, 0, 0, time.FixedZone("CET", 3600))
	for _, tc := range []struct {
		name, field string
		p           Pause
	}{
		{"nobody", "by", Pause{Reason: "x"}},
		{"no name", "by", Pause{By: Actor{Kind: ActorUser}, Reason: "x"}},
		{"no reason", "reason", Pause{By: Actor{Kind: ActorUser, Name: "ann"}, Reason: "  "}},
	} {
		if err := tc.p.Validate(now); ErrorKind(err) != Invalid || ErrorField(err) != tc.field {
			t.Errorf("%s: Validate = %v, want Invalid on %q", tc.name, err, tc.field)
		}
	}
	p := Pause{By: Actor{Kind: ActorUser, Name: "ann"}, Reason: " storm "}
	if err := p.Validate(now); err != nil || p.Reason != "storm" || !p.At.Equal(now) || p.At.Location() != time.UTC {
		t.Errorf("Validate = %v, %+v; want the reason trimmed and dated now in UTC", err, p)
	}
}

func TestAccountLimitDefaults(t *testing.T) {
	limits := map[string]AccountLimit{"slow": {Concurrency: 2, Spacing: 5 * time.Minute}, "free": {Spacing: -1}}
	for _, tc := range []struct {
		account string
		want    AccountLimit
	}{
		{"slow", AccountLimit{Concurrency: 2, Spacing: 5 * time.Minute}},
		{"free", AccountLimit{Concurrency: 1, Spacing: 0}},
		{"unlisted", AccountLimit{Concurrency: DefaultConcurrency, Spacing: DefaultSpacing}},
	} {
		if got := LimitOf(limits, tc.account); got != tc.want {
			t.Errorf("LimitOf(%s) = %+v, want %+v", tc.account, got, tc.want)
		}
	}
}
