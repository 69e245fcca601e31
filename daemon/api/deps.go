package api

import (
	"context"
	"time"

	"github.com/tact-hq/tact/daemon/queue"
	"github.com/tact-hq/tact/plugins/sdk"
)

// The services below are what the API (and the web UI, which offers the same actions)
// needs beyond the Store. The daemon wires real implementations: Validator from
// plugins/host, the others from daemon/watch. Each may be nil in a deployment that lacks it;
// handlers then answer 503 with a message saying what is not configured.

// Validator runs each target account's plugin Validate on a post.
type Validator interface {
	// Validate returns the problems the target networks find, each prefixed with the
	// account name ("brand-mastodon: text: 612 characters, the limit is 500").
	Validate(ctx context.Context, accounts []string, p sdk.Post) ([]string, error)
}

// AccountInfo describes a configured account and its plugin, without its settings.
type AccountInfo struct {
	Name          string    `json:"name"`
	Plugin        string    `json:"plugin"`
	PluginVersion string    `json:"plugin_version,omitempty"`
	MaxLength     int       `json:"max_length,omitempty"`
	Counting      string    `json:"counting,omitempty"`
	Healthy       bool      `json:"healthy"`
	Detail        string    `json:"detail,omitempty"`
	UpdatedAt     time.Time `json:"updated_at,omitzero"`
	// Connect is how the account is connected from tact: "oauth" (the network's consent
	// page), "password" (an app password), or "" (its credentials are in tact.toml only).
	Connect string `json:"connect,omitempty"`
	// Connection is the connection made from tact (connect.go); nil when there is none.
	Connection *Connection `json:"connection,omitempty"`
	// LastPublishedAt is the account's last publish; LastError its last delivery error.
	LastPublishedAt time.Time `json:"last_published_at,omitzero"`
	LastError       string    `json:"last_error,omitempty"`
	LastErrorAt     time.Time `json:"last_error_at,omitzero"`
	// NeedsAttention lists why the account needs a person, each with what to do.
	NeedsAttention []string `json:"needs_attention,omitempty"`
}

// Accounts lists configured accounts and plugins.
type Accounts interface {
	Accounts(ctx context.Context) ([]AccountInfo, error)
}

// RuleInfo is one rule in force.
type RuleInfo struct {
	ID          string `json:"id"`
	Description string `json:"description"`
	Action      string `json:"action"`
	Resume      string `json:"resume"`
	Window      string `json:"window"`
	File        string `json:"file"`
	Line        int    `json:"line"`
}

// RulesStatus is the rule set in force and the outcome of the last reload.
type RulesStatus struct {
	Rules           []RuleInfo `json:"rules"`
	LoadedAt        time.Time  `json:"loaded_at"`
	Files           []string   `json:"files"`
	LastReloadAt    time.Time  `json:"last_reload_at,omitzero"`
	LastReloadError string     `json:"last_reload_error,omitempty"` // "" when the last reload succeeded
}

// PreviewCampaign and PreviewPost are what a candidate rule set would do now.
type PreviewCampaign struct {
	ID     int64  `json:"id"`
	Name   string `json:"name"`
	Rule   string `json:"rule"`
	Action string `json:"action"`
}

type PreviewPost struct {
	ID       int64  `json:"id"`
	Campaign string `json:"campaign"`
	Rule     string `json:"rule"`
	Action   string `json:"action"`
	Text     string `json:"text"`
}

// Preview is the dry run of a rule set against the live queue and recent context.
type Preview struct {
	Campaigns []PreviewCampaign `json:"campaigns"`
	Posts     []PreviewPost     `json:"posts"`
	// Headlines are the recent context items that would open incidents, by rule id.
	Headlines map[string][]string `json:"headlines,omitempty"`
}

// Rules is the rule set manager.
type Rules interface {
	Status() RulesStatus
	// Reload re-reads the rule files; on error the previous set stays in force.
	Reload(ctx context.Context) error
	// Preview evaluates files (name -> TOML contents) without installing them.
	Preview(ctx context.Context, files map[string][]byte) (Preview, error)
}

// Watch is the context side: pushed items and hand-declared incidents.
type Watch interface {
	// Push stores a context item (POST /api/v1/context) and returns it with the incidents
	// it opened or extended; their actions are already applied when it returns.
	Push(ctx context.Context, item *queue.ContextItem) (*queue.ContextItem, []*queue.Incident, error)
	// Declare opens an incident by hand for a rule and applies the rule's action.
	Declare(ctx context.Context, by queue.Actor, ruleID, note string) (*queue.Incident, error)
	// Resolve closes an incident by hand.
	Resolve(ctx context.Context, by queue.Actor, id int64, note string) (*queue.Incident, error)
}

// Warnings says which open incidents and flags touch a post, for the queue's safety warnings.
type Warnings interface {
	PostWarnings(ctx context.Context, c *queue.Campaign, p *queue.Post) []string
}

// Kicker wakes the scheduler/publisher when something changed (a post approved, a campaign resumed).
type Kicker interface{ Kick() }
