// Package queue is tact's domain: campaigns, posts and their per-account deliveries,
// the legal state transitions between them, incidents and context items, users and the
// audit log, and the Store interface that every storage backend implements.
//
// Nothing here does I/O. Adapters (daemon/sqlite, later postgres) depend on this package,
// never the other way round, so that the scheduler, the publisher and the API can be
// written once against Store.
package queue

import "time"

// ApprovalMode says who approves a campaign's posts.
type ApprovalMode string

const (
	// ApprovalRequired: a person approves each post (the default).
	ApprovalRequired ApprovalMode = "required"
	// ApprovalAutopilot: a pending post is approved automatically Veto before it is due,
	// unless someone rejected or held it. It still passes every safety check at publish time.
	ApprovalAutopilot ApprovalMode = "autopilot"
)

// Valid reports whether m is a known approval mode.
func (m ApprovalMode) Valid() bool { return m == ApprovalRequired || m == ApprovalAutopilot }

// CampaignState is the state of a campaign.
type CampaignState string

const (
	CampaignActive   CampaignState = "active"
	CampaignPaused   CampaignState = "paused"
	CampaignArchived CampaignState = "archived"
)

// Defaults that apply when a campaign leaves a field empty.
const (
	DefaultLead = 48 * time.Hour
	DefaultLate = 30 * time.Minute
	DefaultVeto = 2 * time.Hour
)

// Campaign groups posts that share accounts, topics, a time zone and an approval mode.
type Campaign struct {
	ID       int64        `json:"id"`
	Name     string       `json:"name"`
	Accounts []string     `json:"accounts"`
	Topics   []string     `json:"topics"`
	TimeZone string       `json:"timezone"` // IANA name; "" means the daemon's default
	Approval ApprovalMode `json:"approval"`
	Veto     Duration     `json:"veto"` // autopilot only
	Late     Duration     `json:"late"` // grace for overdue posts, default 30m

	// Recurring schedule: a robfig/cron spec (CRON_TZ allowed) and a pool of texts used in turn.
	// NextTick is the persisted cursor: the next tick the scheduler has not yet turned into a post.
	Schedule   string    `json:"schedule,omitempty"`
	Pool       []string  `json:"pool,omitempty"`
	PoolCursor int       `json:"pool_cursor,omitempty"`
	Lead       Duration  `json:"lead,omitempty"`
	NextTick   time.Time `json:"next_tick,omitzero"`

	State CampaignState `json:"state"`
	Pause *Pause        `json:"pause,omitempty"` // set while paused

	// OpenPosts counts the campaign's posts in OpenStates, and Problem says what keeps it
	// from working as configured (Limits.Problem), "" when nothing does. Both are read, not
	// stored: Campaign, CampaignByName, and Campaigns with CampaignFilter.CountOpen fill
	// them; other reads leave them zero.
	OpenPosts int    `json:"open_posts"`
	Problem   string `json:"problem,omitempty"`

	Version   int64     `json:"version"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Pause says why a campaign is paused: by whom (a person, or a rule through an incident),
// and with what evidence.
type Pause struct {
	By         Actor      `json:"by"`
	Reason     string     `json:"reason"`
	RuleID     string     `json:"rule_id,omitempty"`
	IncidentID int64      `json:"incident_id,omitempty"`
	Evidence   []Evidence `json:"evidence,omitempty"`
	At         time.Time  `json:"at"`
}

// Post is one piece of content for one campaign, sent to one or more accounts.
type Post struct {
	ID         int64     `json:"id"`
	CampaignID int64     `json:"campaign_id"`
	Campaign   string    `json:"campaign"` // name, filled on read
	Text       string    `json:"text"`
	Link       string    `json:"link,omitempty"`
	Media      []string  `json:"media,omitempty"`
	Accounts   []string  `json:"accounts"`
	DueAt      time.Time `json:"due_at"` // UTC
	State      PostState `json:"state"`
	// Reason is the last rejection, hold, miss or failure reason shown to people.
	Reason string `json:"reason,omitempty"`
	// Problems are the target networks' validation findings; a post with problems cannot be approved.
	Problems []string `json:"problems,omitempty"`
	// Flags are marks left by rules whose action is "flag" (rule ids).
	Flags []string `json:"flags,omitempty"`
	// Tick is the cron tick a recurring campaign created this post for (zero for one-off posts).
	Tick       time.Time   `json:"tick,omitzero"`
	ApprovedBy string      `json:"approved_by,omitempty"`
	ApprovedAt time.Time   `json:"approved_at,omitzero"`
	Deliveries []*Delivery `json:"deliveries,omitempty"`
	Version    int64       `json:"version"`
	CreatedAt  time.Time   `json:"created_at"`
	UpdatedAt  time.Time   `json:"updated_at"`
}

// DeliveryState is the state of one post's publish to one account.
type DeliveryState string

const (
	DeliveryWaiting    DeliveryState = "waiting"    // not yet attempted, or waiting for a retry
	DeliveryPublishing DeliveryState = "publishing" // durably marked before the plugin is called
	DeliveryPublished  DeliveryState = "published"
	DeliveryFailed     DeliveryState = "failed"
	DeliveryUnknown    DeliveryState = "unknown" // outcome not known after a crash: a person decides
)

// Delivery is the publish of one post to one account, with its own receipt.
type Delivery struct {
	ID             int64         `json:"id"`
	PostID         int64         `json:"post_id"`
	Account        string        `json:"account"`
	State          DeliveryState `json:"state"`
	IdempotencyKey string        `json:"idempotency_key"`
	Attempts       int           `json:"attempts"`
	NextAttemptAt  time.Time     `json:"next_attempt_at,omitzero"`
	RemoteID       string        `json:"remote_id,omitempty"`
	URL            string        `json:"url,omitempty"`
	LastError      string        `json:"last_error,omitempty"`
	StartedAt      time.Time     `json:"started_at,omitzero"`
	FinishedAt     time.Time     `json:"finished_at,omitzero"`
}

// Role is what a user may do.
type Role string

const (
	RoleViewer   Role = "viewer"   // read
	RoleMarketer Role = "marketer" // posts, approvals, resume
	RoleAdmin    Role = "admin"    // everything
)

// Valid reports whether r is a known role.
func (r Role) Valid() bool { return r == RoleViewer || r == RoleMarketer || r == RoleAdmin }

// Allows reports whether a user with role r may act as need.
func (r Role) Allows(need Role) bool { return roleRank[r] >= roleRank[need] && roleRank[need] > 0 }

var roleRank = map[Role]int{RoleViewer: 1, RoleMarketer: 2, RoleAdmin: 3}

// User is a person or tool with an API token. Only the token's SHA-256 is stored.
type User struct {
	ID        int64     `json:"id"`
	Name      string    `json:"name"`
	Role      Role      `json:"role"`
	CreatedAt time.Time `json:"created_at"`
}

// ActorKind says what kind of actor did something.
type ActorKind string

const (
	ActorUser   ActorKind = "user"
	ActorRule   ActorKind = "rule"   // Name is the rule id
	ActorSystem ActorKind = "system" // Name says which part: "scheduler", "autopilot", "publisher", "watch"
)

// Actor is who did something: recorded in the audit log and on pauses.
type Actor struct {
	Kind ActorKind `json:"kind"`
	Name string    `json:"name"`
}

func (a Actor) String() string { return string(a.Kind) + ":" + a.Name }

// System returns the actor for an automatic part of the daemon.
func System(part string) Actor { return Actor{Kind: ActorSystem, Name: part} }

// AuditEntry is one line of the append-only audit log.
type AuditEntry struct {
	ID     int64     `json:"id"`
	At     time.Time `json:"at"`
	Actor  Actor     `json:"actor"`
	Action string    `json:"action"` // e.g. "post.approve", "campaign.pause", "rules.reload"
	Object string    `json:"object"` // e.g. "post:12", "campaign:spring-sale"
	Detail string    `json:"detail,omitempty"`
}

// ContextItem is one piece of news or trend seen by the daemon.
type ContextItem struct {
	ID          int64     `json:"id"`
	Source      string    `json:"source"` // feed name, "api", or "plugin:<account>"
	GUID        string    `json:"guid,omitempty"`
	Title       string    `json:"title"`
	Summary     string    `json:"summary,omitempty"`
	URL         string    `json:"url,omitempty"`
	Language    string    `json:"language,omitempty"`
	PublishedAt time.Time `json:"published_at,omitzero"`
	SeenAt      time.Time `json:"seen_at"`
}

// Evidence is one context item recorded on an incident or a pause.
type Evidence struct {
	ItemID      int64     `json:"item_id,omitempty"`
	Source      string    `json:"source"`
	Title       string    `json:"title"`
	URL         string    `json:"url,omitempty"`
	PublishedAt time.Time `json:"published_at,omitzero"`
	Terms       []string  `json:"terms,omitempty"` // what matched, for explanations
}

// IncidentState is the state of an incident.
type IncidentState string

const (
	IncidentOpen     IncidentState = "open"
	IncidentClosed   IncidentState = "closed"   // window passed after the latest item
	IncidentResolved IncidentState = "resolved" // a person resolved it
)

// Incident is a rule's news side matching the context: open while news keeps coming, closed
// Window after its latest item, or resolved by a person.
type Incident struct {
	ID         int64         `json:"id"`
	RuleID     string        `json:"rule_id"`
	Action     string        `json:"action"` // pause | hold | flag
	Resume     string        `json:"resume"` // manual | auto
	State      IncidentState `json:"state"`
	Declared   bool          `json:"declared"` // declared by a person
	Note       string        `json:"note,omitempty"`
	OpenedBy   Actor         `json:"opened_by"`
	OpenedAt   time.Time     `json:"opened_at"`
	LastItemAt time.Time     `json:"last_item_at"`
	ClosesAt   time.Time     `json:"closes_at"`
	ClosedAt   time.Time     `json:"closed_at,omitzero"`
	Evidence   []Evidence    `json:"evidence,omitempty"`
}

// AccountStatus records an account's health as the publisher last saw it.
type AccountStatus struct {
	Account   string    `json:"account"`
	Healthy   bool      `json:"healthy"`
	Detail    string    `json:"detail,omitempty"` // e.g. "auth: token revoked"
	UpdatedAt time.Time `json:"updated_at"`
}
