package queue

import (
	"context"
	"time"
)

// Store is everything the daemon keeps. Each method owns its transaction and commits
// before it returns: what a method acknowledged survives kill -9. Every state change a
// person or the daemon makes is written to the audit log in the same transaction.
//
// Implementations: daemon/sqlite (embedded default). A shared suite in
// daemon/queue/storetest runs against each implementation.
type Store interface {
	CampaignStore
	PostStore
	PublishStore
	IncidentStore
	UserStore
	SessionStore
	CredentialStore
	Close() error
}

// CampaignFilter selects campaigns. Zero values select everything.
type CampaignFilter struct {
	State CampaignState
	Name  string
	// Recurring selects only campaigns with a schedule (the scheduler reads these on every
	// publisher wake; a large brand has hundreds of one-off campaigns it need not decode).
	Recurring bool
	// CountOpen also counts each campaign's open posts, filling OpenPosts and Problem (one
	// more read; the scheduler and the API ask for it, the listing pages do not).
	CountOpen bool
}

// CampaignStore keeps campaigns.
type CampaignStore interface {
	// CreateCampaign validates c (name unique, accounts non-empty, approval mode, durations,
	// lead within Limits.MaxLead) and stores it as active, filling ID, Version and timestamps.
	CreateCampaign(ctx context.Context, by Actor, c *Campaign) error
	// UpdateCampaign stores c's editable fields if its Version still matches (else Conflict).
	UpdateCampaign(ctx context.Context, by Actor, c *Campaign) error
	Campaign(ctx context.Context, id int64) (*Campaign, error)
	CampaignByName(ctx context.Context, name string) (*Campaign, error)
	Campaigns(ctx context.Context, f CampaignFilter) ([]*Campaign, error)
	// PauseCampaigns pauses the named active campaigns (ids) with p, skipping those already
	// paused, and returns the ids it paused. One transaction: a rule pausing 1,000 campaigns
	// commits once.
	PauseCampaigns(ctx context.Context, ids []int64, p Pause) ([]int64, error)
	// ResumeCampaign makes a paused campaign active again. Its approved posts stay approved:
	// the person who resumes decides for them (SPEC 3); overdue ones are handled by `late`.
	ResumeCampaign(ctx context.Context, by Actor, id int64) error
	// PauseAll pauses every active campaign (crisis mode) and returns how many.
	PauseAll(ctx context.Context, by Actor, reason string) (int, error)
	// ResumeAll resumes every campaign paused by a person through PauseAll and returns how many.
	ResumeAll(ctx context.Context, by Actor) (int, error)
	// AddTick turns the campaign's NextTick into post p (may be nil when the tick is skipped),
	// and advances NextTick to next and PoolCursor by one, atomically and only if the stored
	// NextTick still equals tick (compare-and-set), so a tick never yields two posts. A post
	// beyond the campaign's open-post limit is refused (IsOpenLimit) and nothing changes.
	AddTick(ctx context.Context, campaignID int64, tick, next time.Time, p *Post) error
}

// PostFilter selects posts. Zero values select everything.
type PostFilter struct {
	CampaignID int64
	Account    string
	States     []PostState
	DueAfter   time.Time // inclusive
	DueBefore  time.Time // exclusive
	// Cursor continues a listing: the opaque value returned as next by Posts.
	Cursor string
	Limit  int // default 100, max 1000
}

// PostEdit is what a person may change on a post. Nil fields are left as they are.
type PostEdit struct {
	Text     *string
	Link     *string
	Media    *[]string
	Accounts *[]string
	DueAt    *time.Time
	Problems *[]string // recomputed by the caller through the plugins' Validate
}

// PostStore keeps posts.
type PostStore interface {
	// CreatePost stores p (State draft or pending; default pending) with one waiting delivery
	// per account, filling ID, Version, timestamps and deliveries. It refuses a post that
	// would take its campaign beyond Limits.MaxOpenPosts (IsOpenLimit).
	CreatePost(ctx context.Context, by Actor, p *Post) error
	// CreatePosts stores all of ps in one transaction, or none of them (bulk import); the
	// open-post limit applies to the campaigns' posts with all of ps added.
	CreatePosts(ctx context.Context, by Actor, ps []*Post) error
	Post(ctx context.Context, id int64) (*Post, error)
	// Posts lists posts soonest due first; next is the cursor of the following page ("" at the end).
	Posts(ctx context.Context, f PostFilter) (posts []*Post, next string, err error)
	// EditPost applies e if the post's Version equals version (0 = do not check), sending an
	// approved post back to pending (EventEdit), and returns the post as stored.
	EditPost(ctx context.Context, by Actor, id, version int64, e PostEdit) (*Post, error)
	// Apply moves the post by event ev (approve, reject, hold, release, submit, and a person's
	// retry/succeed/fail on a failed or unknown post) if its Version equals version (0 = do not
	// check). reason is recorded on the post and in the audit log. Approve refuses a post
	// with Problems.
	Apply(ctx context.Context, by Actor, id, version int64, ev Event, reason string) (*Post, error)
	// DeletePost removes a post that is not published or being published.
	DeletePost(ctx context.Context, by Actor, id, version int64) error
	// CountPosts returns how many posts are in each state (for status and metrics).
	CountPosts(ctx context.Context) (map[PostState]int, error)
	// ScanOpenPosts calls fn for every post that may still be published (pending, approved,
	// held) with its campaign, in batches, for rule matching over the whole queue.
	ScanOpenPosts(ctx context.Context, fn func(*Campaign, *Post) error) error
}

// AccountLimit is the per-account throttle the publisher respects.
type AccountLimit struct {
	Concurrency int           // deliveries in flight at once, default 1
	Spacing     time.Duration // minimum time between two publish starts, default 1m
}

// Gate is the last check before a plugin is called. It runs inside the transaction that
// marks a delivery publishing, with the post, its active campaign and the incidents open in
// that transaction. A non-empty reason blocks the publish; hold says whether the post is
// held (action hold) rather than left for later (campaign about to be paused).
type Gate func(c *Campaign, p *Post, open []*Incident) (reason string, hold bool)

// ClaimRequest asks for due deliveries.
type ClaimRequest struct {
	Now    time.Time
	Limit  int
	Limits map[string]AccountLimit // by account; missing accounts get the defaults
	Gate   Gate                    // may be nil: only the campaign-active check applies
}

// Claim is a delivery marked publishing, with what the publisher needs to send it.
type Claim struct {
	Delivery *Delivery
	Post     *Post
	Campaign *Campaign
}

// Outcome is how a publish attempt ended.
type Outcome struct {
	State     DeliveryState // published, failed, unknown, or waiting (retry at RetryAt)
	RemoteID  string
	URL       string
	Error     string
	RetryAt   time.Time
	AuthError bool // the account needs attention: its other waiting posts are held
}

// PublishStore is what the scheduler and the publisher use.
type PublishStore interface {
	// ClaimDue marks due deliveries publishing, at most Limit, respecting account limits, in
	// one transaction that also checks each post's campaign is active and calls Gate. In the
	// same transaction, first-attempt deliveries more than the campaign's Late overdue make
	// their post missed instead. A post due while its campaign is paused stays approved.
	ClaimDue(ctx context.Context, r ClaimRequest) ([]*Claim, error)
	// Finish records the outcome of a claimed delivery (compare-and-set on publishing) and
	// updates the post's aggregate state.
	Finish(ctx context.Context, deliveryID int64, o Outcome) error
	// InFlight returns deliveries found in publishing (after a crash) for recovery via Lookup.
	InFlight(ctx context.Context) ([]*Claim, error)
	// AutoApprove approves pending posts of active autopilot campaigns whose due time minus
	// Veto has come, that have no problems; returns how many.
	AutoApprove(ctx context.Context, now time.Time) (int, error)
	// MarkMissed makes pending, approved and held posts more than their campaign's Late
	// overdue missed (approved ones only if their campaign is active: a paused campaign's
	// approved posts wait for the resume decision); returns how many.
	MarkMissed(ctx context.Context, now time.Time) (int, error)
	// NextWake is the earliest time at which ClaimDue, AutoApprove or a recurring tick may
	// have work; zero when nothing is scheduled.
	NextWake(ctx context.Context) (time.Time, error)
	// SetAccountStatus records an account's health; AccountStatuses lists them.
	SetAccountStatus(ctx context.Context, s AccountStatus) error
	AccountStatuses(ctx context.Context) ([]AccountStatus, error)
}

// IncidentFilter selects incidents.
type IncidentFilter struct {
	States []IncidentState
	RuleID string
	Since  time.Time
	Limit  int
}

// IncidentAction is what an incident does to the queue, decided by the rules engine.
type IncidentAction struct {
	PauseCampaigns []int64
	HoldPosts      []int64
	FlagPosts      []int64
}

// IncidentEffect is what ApplyIncident changed.
type IncidentEffect struct {
	Paused  []int64 `json:"paused_campaigns"`
	Held    []int64 `json:"held_posts"`
	Flagged []int64 `json:"flagged_posts"`
}

// IncidentStore keeps context items, incidents, the audit log.
type IncidentStore interface {
	// AddContext stores items not seen before (by source+GUID, else source+URL, else
	// source+title) and returns those that are new, with IDs.
	AddContext(ctx context.Context, items []*ContextItem) ([]*ContextItem, error)
	RecentContext(ctx context.Context, since time.Time, limit int) ([]*ContextItem, error)
	// RecordIncident opens an incident for in.RuleID or, if one is open for that rule,
	// adds in.Evidence to it and moves LastItemAt/ClosesAt later. Returns the stored incident
	// and whether it was newly opened.
	RecordIncident(ctx context.Context, in *Incident) (*Incident, bool, error)
	// ApplyIncident pauses, holds and flags as a says, in one transaction, recording the
	// incident's rule and evidence on each pause and in the audit log.
	ApplyIncident(ctx context.Context, incidentID int64, a IncidentAction) (IncidentEffect, error)
	// CloseExpired closes open incidents whose ClosesAt has passed and, for resume=auto,
	// resumes the campaigns they paused unless another open incident still pauses them.
	CloseExpired(ctx context.Context, now time.Time) ([]*Incident, error)
	// ResolveIncident closes an incident by hand (resume=auto campaigns are resumed as above).
	ResolveIncident(ctx context.Context, by Actor, id int64, note string) (*Incident, error)
	Incident(ctx context.Context, id int64) (*Incident, error)
	Incidents(ctx context.Context, f IncidentFilter) ([]*Incident, error)
	// Audit appends an entry (for events that are not store changes, such as rule reloads).
	Audit(ctx context.Context, e AuditEntry) error
	AuditLog(ctx context.Context, since time.Time, limit int) ([]AuditEntry, error)
}

// UserStore keeps users and their hashed tokens.
type UserStore interface {
	// CreateUser stores u with the SHA-256 of its token (hex).
	CreateUser(ctx context.Context, by Actor, u *User, tokenHash string) error
	UserByTokenHash(ctx context.Context, tokenHash string) (*User, error)
	Users(ctx context.Context) ([]*User, error)
	// DeleteUser removes a user and ends their sessions; their token stops working at once.
	// The last admin cannot be deleted (Conflict): nobody could add users again.
	DeleteUser(ctx context.Context, by Actor, name string) error
	// SetUserRole changes a user's role and ends their sessions in the same transaction, so
	// no session outlives the role it was opened with. Demoting the last admin is a Conflict.
	SetUserRole(ctx context.Context, by Actor, name string, role Role) (*User, error)
	// ReplaceToken gives a user a new token (its hex SHA-256) and ends their sessions: the
	// old token, and every session opened with it, stop working at once.
	ReplaceToken(ctx context.Context, by Actor, name, tokenHash string) (*User, error)
}

// SessionStore keeps the web UI's sessions (Session). Their times come from the caller's
// clock (the web UI's), as AutoApprove's now does; the store decides expiry against it.
type SessionStore interface {
	// CreateSession stores s (IDHash, UserID, CSRFSecret, CreatedAt and ExpiresAt set by
	// the caller; LastSeenAt becomes CreatedAt). In the same transaction it deletes every
	// session expired at CreatedAt and the user's oldest beyond MaxSessionsPerUser.
	CreateSession(ctx context.Context, s *Session) error
	// Session returns the session whose id hashes to idHash, with its user as stored now,
	// if it has not expired at now. NotFound when there is none: unknown, ended, expired,
	// or its user deleted.
	Session(ctx context.Context, idHash string, now time.Time) (*Session, *User, error)
	// TouchSession records that the session was used at now (LastSeenAt).
	TouchSession(ctx context.Context, idHash string, now time.Time) error
	// EndSession deletes the session (logout). Ending a session that is already gone is
	// not an error: the outcome, no session, is the same.
	EndSession(ctx context.Context, idHash string) error
}
