// Package notify tells people about what the daemon did on its own: automatic pauses,
// holds and releases, failed posts, accounts that need attention. Targets are the
// [[notify]] entries of tact.toml.
package notify

import (
	"context"
	"time"

	"github.com/tact-hq/tact/daemon/queue"
)

// Kinds of events.
const (
	CampaignPaused   = "campaign.paused"
	CampaignResumed  = "campaign.resumed"
	PostHeld         = "post.held"
	PostReleased     = "post.released"
	PostFlagged      = "post.flagged"
	PostFailed       = "post.failed"
	PostUnknown      = "post.unknown"
	AccountAttention = "account.attention"
	IncidentOpened   = "incident.opened"
	IncidentClosed   = "incident.closed"
	RulesReloadError = "rules.reload_failed"
)

// Event is one thing people are told about.
type Event struct {
	Kind       string           `json:"kind"`
	Text       string           `json:"text"` // one human sentence, shown as the message
	RuleID     string           `json:"rule_id,omitempty"`
	IncidentID int64            `json:"incident_id,omitempty"`
	CampaignID int64            `json:"campaign_id,omitempty"`
	Campaign   string           `json:"campaign,omitempty"`
	PostID     int64            `json:"post_id,omitempty"`
	Account    string           `json:"account,omitempty"`
	Evidence   []queue.Evidence `json:"evidence,omitempty"`
	At         time.Time        `json:"at"`
}

// Notifier delivers events. Notify must not block the caller for long: implementations
// queue and retry in the background, and never fail the action that caused the event.
type Notifier interface {
	Notify(ctx context.Context, e Event)
}

// Discard is a Notifier that drops events (no [[notify]] configured).
type Discard struct{}

func (Discard) Notify(context.Context, Event) {}
