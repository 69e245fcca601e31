package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/tact-hq/tact/daemon/cron"
	"github.com/tact-hq/tact/daemon/queue"
)

const campaignColumns = `c.id, c.name, c.accounts, c.topics, c.timezone, c.approval, c.veto, c.late, c.schedule,
	c.pool, c.pool_cursor, c.lead, c.next_tick, c.state, c.pause, c.version, c.created_at, c.updated_at`

type scanner interface{ Scan(dest ...any) error }

func scanCampaign(s scanner) (*queue.Campaign, error) {
	var (
		c                                        queue.Campaign
		accounts, topics, pool, approval, state  string
		pause                                    sql.NullString
		veto, late, lead, nextTick, created, upd int64
	)
	if err := s.Scan(&c.ID, &c.Name, &accounts, &topics, &c.TimeZone, &approval, &veto, &late, &c.Schedule,
		&pool, &c.PoolCursor, &lead, &nextTick, &state, &pause, &c.Version, &created, &upd); err != nil {
		return nil, err
	}
	var err error
	if c.Accounts, err = parseList[string](accounts); err != nil {
		return nil, err
	}
	if c.Topics, err = parseList[string](topics); err != nil {
		return nil, err
	}
	if c.Pool, err = parseList[string](pool); err != nil {
		return nil, err
	}
	if pause.Valid {
		c.Pause = new(queue.Pause)
		if err := json.Unmarshal([]byte(pause.String), c.Pause); err != nil {
			return nil, fmt.Errorf("campaign %d: damaged pause record: %w", c.ID, err)
		}
	}
	c.Approval = queue.ApprovalMode(approval)
	c.State = queue.CampaignState(state)
	c.Veto, c.Late, c.Lead = queue.Duration(veto), queue.Duration(late), queue.Duration(lead)
	c.NextTick, c.CreatedAt, c.UpdatedAt = fromNano(nextTick), fromNano(created), fromNano(upd)
	return &c, nil
}

// firstTick is the schedule's first tick after now, in the campaign's zone unless the spec
// names its own (CRON_TZ=); zone "" is UTC here, and the scheduler, which knows the daemon's
// default zone, realigns a cursor that is not a tick there. The spec was validated.
func firstTick(spec, zone string, now time.Time) time.Time {
	s, err := cron.Parse(spec, zone)
	if err != nil {
		return time.Time{}
	}
	return s.Next(now)
}

// CreateCampaign validates c and stores it as active. A recurring campaign without a
// NextTick gets its schedule's first tick after now.
func (db *DB) CreateCampaign(ctx context.Context, by queue.Actor, c *queue.Campaign) error {
	if err := c.Validate(db.limits); err != nil {
		return err
	}
	return db.update(ctx, func(tx *tx) error {
		c.State, c.Pause = queue.CampaignActive, nil
		if c.Schedule != "" && c.NextTick.IsZero() {
			c.NextTick = firstTick(c.Schedule, c.TimeZone, tx.now)
		}
		c.Version, c.CreatedAt, c.UpdatedAt = 1, tx.now, tx.now
		res, err := tx.exec(`INSERT INTO campaigns (name, accounts, topics, timezone, approval, veto, late, schedule, pool,
			pool_cursor, lead, next_tick, state, version, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			c.Name, jsonList(c.Accounts), jsonList(c.Topics), c.TimeZone, string(c.Approval), int64(c.Veto), int64(c.Late),
			c.Schedule, jsonList(c.Pool), c.PoolCursor, int64(c.Lead), unixNano(c.NextTick), string(c.State), c.Version,
			unixNano(tx.now), unixNano(tx.now))
		if isUnique(err) {
			return queue.Errorf(queue.Conflict, "name", "a campaign named %q already exists: choose another name", c.Name)
		}
		if err != nil {
			return err
		}
		if c.ID, err = res.LastInsertId(); err != nil {
			return err
		}
		return tx.audit(by, "campaign.create", campaignObject(c.Name), fmt.Sprintf("accounts %s, approval %s", strings.Join(c.Accounts, ", "), c.Approval))
	})
}

// UpdateCampaign stores c's editable fields (name, accounts, topics, zone, approval,
// durations, schedule and pool, and archiving) if its Version still matches. Pausing and
// resuming have their own methods because they carry a reason.
func (db *DB) UpdateCampaign(ctx context.Context, by queue.Actor, c *queue.Campaign) error {
	if err := c.Validate(db.limits); err != nil {
		return err
	}
	return db.update(ctx, func(tx *tx) error {
		old, err := tx.campaign(c.ID)
		if err != nil {
			return err
		}
		if c.Version != old.Version {
			return queue.Errorf(queue.Conflict, "version", "campaign %q changed since you read it (you have version %d, it is now at %d): reload and try again", old.Name, c.Version, old.Version)
		}
		state := old.State
		switch {
		case c.State == "" || c.State == old.State:
		case c.State == queue.CampaignArchived:
			state = queue.CampaignArchived
		case c.State == queue.CampaignActive && old.State == queue.CampaignArchived:
			state = queue.CampaignActive
		default:
			return queue.Errorf(queue.Invalid, "state", "campaign %q is %s: use pause or resume to change that, not an edit", old.Name, old.State)
		}
		pause := old.Pause
		if state != queue.CampaignPaused {
			pause = nil
		}
		if c.Schedule != old.Schedule || c.TimeZone != old.TimeZone {
			if c.Schedule == "" {
				c.NextTick = time.Time{}
			} else if c.NextTick.Equal(old.NextTick) {
				c.NextTick = firstTick(c.Schedule, c.TimeZone, tx.now)
			}
		}
		var pauseJSON any
		if pause != nil {
			pauseJSON = encodeJSON(pause)
		}
		pausedAll := 0
		if state == queue.CampaignPaused {
			if err := tx.queryRow(`SELECT paused_all FROM campaigns WHERE id = ?`, c.ID).Scan(&pausedAll); err != nil {
				return err
			}
		}
		res, err := tx.exec(`UPDATE campaigns SET name = ?, accounts = ?, topics = ?, timezone = ?, approval = ?, veto = ?,
			late = ?, schedule = ?, pool = ?, pool_cursor = ?, lead = ?, next_tick = ?, state = ?, pause = ?, paused_all = ?,
			pause_incident = CASE WHEN ? THEN pause_incident END, version = version + 1, updated_at = ?
			WHERE id = ? AND version = ?`,
			c.Name, jsonList(c.Accounts), jsonList(c.Topics), c.TimeZone, string(c.Approval), int64(c.Veto), int64(c.Late),
			c.Schedule, jsonList(c.Pool), c.PoolCursor, int64(c.Lead), unixNano(c.NextTick), string(state), pauseJSON, pausedAll,
			pause != nil, unixNano(tx.now), c.ID, old.Version)
		if isUnique(err) {
			return queue.Errorf(queue.Conflict, "name", "a campaign named %q already exists: choose another name", c.Name)
		}
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return queue.Errorf(queue.Conflict, "version", "campaign %q changed while saving: reload and try again", old.Name)
		}
		c.State, c.Pause, c.Version, c.CreatedAt, c.UpdatedAt = state, pause, old.Version+1, old.CreatedAt, tx.now
		detail := campaignChanges(old, c)
		action := "campaign.update"
		if state != old.State {
			action = "campaign." + map[queue.CampaignState]string{queue.CampaignArchived: "archive", queue.CampaignActive: "unarchive"}[state]
		}
		return tx.audit(by, action, campaignObject(c.Name), detail)
	})
}

// campaignChanges names the fields an update changed, for the audit log.
func campaignChanges(old, c *queue.Campaign) string {
	var ch []string
	add := func(field string, changed bool) {
		if changed {
			ch = append(ch, field)
		}
	}
	add("name (was "+old.Name+")", old.Name != c.Name)
	add("accounts", strings.Join(old.Accounts, "\x00") != strings.Join(c.Accounts, "\x00"))
	add("topics", strings.Join(old.Topics, "\x00") != strings.Join(c.Topics, "\x00"))
	add("timezone", old.TimeZone != c.TimeZone)
	add("approval", old.Approval != c.Approval)
	add("veto", old.Veto != c.Veto)
	add("late", old.Late != c.Late)
	add("schedule", old.Schedule != c.Schedule)
	add("pool", strings.Join(old.Pool, "\x00") != strings.Join(c.Pool, "\x00"))
	add("lead", old.Lead != c.Lead)
	add("next_tick", !old.NextTick.Equal(c.NextTick))
	add("state", old.State != c.State)
	if len(ch) == 0 {
		return "no change"
	}
	return "changed " + strings.Join(ch, ", ")
}

// Campaign reads one campaign with its open posts counted (OpenPosts, Problem).
func (db *DB) Campaign(ctx context.Context, id int64) (c *queue.Campaign, err error) {
	err = db.view(ctx, func(tx *tx) error {
		if c, err = tx.campaign(id); err != nil {
			return err
		}
		return tx.countOpen([]*queue.Campaign{c})
	})
	return c, err
}

// CampaignByName reads one campaign with its open posts counted (OpenPosts, Problem).
func (db *DB) CampaignByName(ctx context.Context, name string) (c *queue.Campaign, err error) {
	err = db.view(ctx, func(tx *tx) error {
		c, err = scanCampaign(tx.queryRow(`SELECT `+campaignColumns+` FROM campaigns c WHERE c.name = ?`, name))
		if errors.Is(err, sql.ErrNoRows) {
			return queue.Errorf(queue.NotFound, "campaign", "no campaign named %q", name)
		}
		if err != nil {
			return err
		}
		return tx.countOpen([]*queue.Campaign{c})
	})
	return c, err
}

// openStates is queue.OpenStates for SQL: ('draft', 'pending', …).
var openStates = func() string {
	var b strings.Builder
	for i, s := range queue.OpenStates {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("'" + string(s) + "'")
	}
	return "(" + b.String() + ")"
}()

// qOpenPosts counts one campaign's open posts; openCountsQuery those of n campaigns. Both
// read ranges of posts_campaign_state_due only (TestQueryPlans).
var qOpenPosts = `SELECT COUNT(*) FROM posts WHERE campaign_id = ? AND state IN ` + openStates

func openCountsQuery(n int) string {
	return `SELECT campaign_id, COUNT(*) FROM posts WHERE campaign_id IN (` + placeholders(n) + `)
		AND state IN ` + openStates + ` GROUP BY campaign_id`
}

// countOpen fills OpenPosts and Problem of cs, a query per 500 campaigns (SQLite bounds the
// parameters of one statement) that reads posts_campaign_state_due only: a range of the
// index per campaign and open state, never the posts themselves.
func (tx *tx) countOpen(cs []*queue.Campaign) error {
	open := make(map[int64]int, len(cs))
	for batch := range slices.Chunk(cs, 500) {
		args := make([]any, len(batch))
		for i, c := range batch {
			args[i] = c.ID
		}
		if err := tx.openCounts(args, open); err != nil {
			return err
		}
	}
	for _, c := range cs {
		c.OpenPosts = open[c.ID]
		c.Problem = tx.db.limits.Problem(c, c.OpenPosts)
	}
	return nil
}

// openCounts adds to open the open posts of the campaigns whose ids are args.
func (tx *tx) openCounts(args []any, open map[int64]int) error {
	rows, err := tx.query(openCountsQuery(len(args)), args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var n int
		if err := rows.Scan(&id, &n); err != nil {
			return err
		}
		open[id] = n
	}
	return rows.Err()
}

// checkOpen refuses adding a post to c beyond the open-post limit. The count is read once
// per transaction and campaign, then kept up to date by addedOpen, so that a bulk import
// of thousands of rows counts once.
func (tx *tx) checkOpen(c *queue.Campaign) error {
	n, ok := tx.open[c.ID]
	if !ok {
		if err := tx.queryRow(qOpenPosts, c.ID).Scan(&n); err != nil {
			return err
		}
		if tx.open == nil {
			tx.open = map[int64]int{}
		}
		tx.open[c.ID] = n
	}
	return tx.db.limits.CheckOpen(c.Name, n, 1)
}

// addedOpen counts a post just stored for campaign id (after checkOpen).
func (tx *tx) addedOpen(id int64) { tx.open[id]++ }

// CampaignHeads reads the time zone and topics of each campaign of ids in one query; missing
// ids are left out. A page of the approval queue needs no more of its posts' campaigns:
// reading whole campaigns for it decoded all their lists, a third of the page's cost, and
// most of it while an incident is open (docs/performance.md).
func (db *DB) CampaignHeads(ctx context.Context, ids []int64) (map[int64]queue.CampaignHead, error) {
	out := make(map[int64]queue.CampaignHead, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	err := db.view(ctx, func(tx *tx) error {
		rows, err := tx.query(`SELECT id, timezone, topics FROM campaigns WHERE id IN (`+placeholders(len(args))+`)`, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var h queue.CampaignHead
			var topics string
			if err := rows.Scan(&h.ID, &h.TimeZone, &topics); err != nil {
				return err
			}
			if h.Topics, err = parseList[string](topics); err != nil {
				return err
			}
			out[h.ID] = h
		}
		return rows.Err()
	})
	return out, err
}

// Campaigns lists campaigns by name.
func (db *DB) Campaigns(ctx context.Context, f queue.CampaignFilter) (cs []*queue.Campaign, err error) {
	err = db.view(ctx, func(tx *tx) error {
		q := `SELECT ` + campaignColumns + ` FROM campaigns c WHERE 1 = 1`
		var args []any
		if f.State != "" {
			q += ` AND c.state = ?`
			args = append(args, string(f.State))
		}
		if f.Name != "" {
			q += ` AND c.name = ?`
			args = append(args, f.Name)
		}
		if f.Recurring {
			q += ` AND c.schedule <> ''`
		}
		if cs, err = tx.campaigns(q+` ORDER BY c.name`, args...); err != nil || !f.CountOpen {
			return err
		}
		return tx.countOpen(cs)
	})
	return cs, err
}

func (tx *tx) campaign(id int64) (*queue.Campaign, error) {
	c, err := scanCampaign(tx.queryRow(`SELECT `+campaignColumns+` FROM campaigns c WHERE c.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, queue.Errorf(queue.NotFound, "campaign", "no campaign with id %d", id)
	}
	return c, err
}

func (tx *tx) campaigns(q string, args ...any) ([]*queue.Campaign, error) {
	rows, err := tx.query(q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var cs []*queue.Campaign
	for rows.Next() {
		c, err := scanCampaign(rows)
		if err != nil {
			return nil, err
		}
		cs = append(cs, c)
	}
	return cs, rows.Err()
}

// pauseCampaign pauses c if it is active and reports whether it did.
func (tx *tx) pauseCampaign(c *queue.Campaign, p queue.Pause, pausedAll bool) (bool, error) {
	if c.State != queue.CampaignActive {
		return false, nil
	}
	var incident any
	if p.IncidentID != 0 {
		incident = p.IncidentID
	}
	res, err := tx.exec(`UPDATE campaigns SET state = 'paused', pause = ?, paused_all = ?, pause_incident = ?,
		version = version + 1, updated_at = ? WHERE id = ? AND state = 'active'`,
		encodeJSON(p), pausedAll, incident, unixNano(tx.now), c.ID)
	if err != nil {
		return false, err
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return false, nil
	}
	c.State, c.Pause = queue.CampaignPaused, &p
	c.Version++
	c.UpdatedAt = tx.now
	detail := p.Reason
	if p.IncidentID != 0 {
		detail += fmt.Sprintf(" (incident %d)", p.IncidentID)
	}
	if len(p.Evidence) > 0 {
		detail += "; evidence: " + evidenceSummary(p.Evidence)
	}
	return true, tx.audit(p.By, "campaign.pause", campaignObject(c.Name), detail)
}

// resumeCampaign makes a paused campaign active.
func (tx *tx) resumeCampaign(by queue.Actor, c *queue.Campaign, why string) error {
	res, err := tx.exec(`UPDATE campaigns SET state = 'active', pause = NULL, paused_all = 0, pause_incident = NULL,
		version = version + 1, updated_at = ? WHERE id = ? AND state = 'paused'`, unixNano(tx.now), c.ID)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return queue.Errorf(queue.Conflict, "state", "campaign %q is %s, not paused: nothing to resume", c.Name, c.State)
	}
	c.State, c.Pause = queue.CampaignActive, nil
	c.Version++
	c.UpdatedAt = tx.now
	return tx.audit(by, "campaign.resume", campaignObject(c.Name), why)
}

func evidenceSummary(ev []queue.Evidence) string {
	var parts []string
	for i, e := range ev {
		if i == 5 {
			parts = append(parts, fmt.Sprintf("and %d more", len(ev)-5))
			break
		}
		s := e.Source + ": " + e.Title
		if e.URL != "" {
			s += " <" + e.URL + ">"
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, "; ")
}

// PauseCampaigns pauses the active campaigns among ids with p and returns the ids it paused.
// An unknown id refuses the whole call: nothing is paused.
func (db *DB) PauseCampaigns(ctx context.Context, ids []int64, p queue.Pause) (paused []int64, err error) {
	err = db.update(ctx, func(tx *tx) error {
		paused = nil
		if err := p.Validate(tx.now); err != nil {
			return err
		}
		for _, id := range ids {
			c, err := tx.campaign(id)
			if err != nil {
				return err
			}
			ok, err := tx.pauseCampaign(c, p, false)
			if err != nil {
				return err
			}
			if ok {
				paused = append(paused, id)
			}
			if p.IncidentID != 0 {
				if _, err := tx.exec(`INSERT OR IGNORE INTO incident_campaigns (incident_id, campaign_id) VALUES (?, ?)`, p.IncidentID, id); err != nil {
					return err
				}
			}
		}
		return nil
	})
	return paused, err
}

func (db *DB) ResumeCampaign(ctx context.Context, by queue.Actor, id int64) error {
	return db.update(ctx, func(tx *tx) error {
		c, err := tx.campaign(id)
		if err != nil {
			return err
		}
		why := ""
		if c.Pause != nil {
			why = "was paused by " + c.Pause.By.String() + ": " + c.Pause.Reason
		}
		return tx.resumeCampaign(by, c, why)
	})
}

// PauseAll pauses every active campaign, marking them so that ResumeAll resumes exactly
// these and not campaigns paused for their own reasons.
func (db *DB) PauseAll(ctx context.Context, by queue.Actor, reason string) (n int, err error) {
	err = db.update(ctx, func(tx *tx) error {
		n = 0
		p := queue.Pause{By: by, Reason: reason}
		if err := p.Validate(tx.now); err != nil {
			return err
		}
		cs, err := tx.campaigns(`SELECT ` + campaignColumns + ` FROM campaigns c WHERE c.state = 'active' ORDER BY c.id`)
		if err != nil {
			return err
		}
		for _, c := range cs {
			ok, err := tx.pauseCampaign(c, p, true)
			if err != nil {
				return err
			}
			if ok {
				n++
			}
		}
		return tx.audit(by, "campaign.pause_all", "campaign:*", fmt.Sprintf("%d campaigns paused: %s", n, p.Reason))
	})
	return n, err
}

// ResumeAll resumes the campaigns PauseAll paused that are still paused by it.
func (db *DB) ResumeAll(ctx context.Context, by queue.Actor) (n int, err error) {
	err = db.update(ctx, func(tx *tx) error {
		n = 0
		cs, err := tx.campaigns(`SELECT ` + campaignColumns + ` FROM campaigns c WHERE c.state = 'paused' AND c.paused_all = 1 ORDER BY c.id`)
		if err != nil {
			return err
		}
		for _, c := range cs {
			if err := tx.resumeCampaign(by, c, "resume all"); err != nil {
				return err
			}
			n++
		}
		return tx.audit(by, "campaign.resume_all", "campaign:*", fmt.Sprintf("%d campaigns resumed", n))
	})
	return n, err
}

// AddTick turns the campaign's NextTick into p (nil when the tick is skipped) and advances
// NextTick to next and PoolCursor by one, only if NextTick still equals tick.
func (db *DB) AddTick(ctx context.Context, campaignID int64, tick, next time.Time, p *queue.Post) error {
	if !next.IsZero() && !next.After(tick) {
		return queue.Errorf(queue.Invalid, "next", "the next tick %s must come after the tick %s", next.UTC().Format(time.RFC3339), tick.UTC().Format(time.RFC3339))
	}
	return db.update(ctx, func(tx *tx) error {
		c, err := tx.campaign(campaignID)
		if err != nil {
			return err
		}
		res, err := tx.exec(`UPDATE campaigns SET next_tick = ?, pool_cursor = pool_cursor + 1, version = version + 1, updated_at = ?
			WHERE id = ? AND next_tick = ?`, unixNano(next), unixNano(tx.now), campaignID, unixNano(tick))
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return queue.Errorf(queue.Conflict, "tick", "campaign %q: tick %s was already handled (its next tick is %s)",
				c.Name, tick.UTC().Format(time.RFC3339), c.NextTick.UTC().Format(time.RFC3339))
		}
		by := queue.System("scheduler")
		if p == nil {
			return tx.audit(by, "campaign.tick", campaignObject(c.Name), fmt.Sprintf("tick %s skipped; next %s",
				tick.UTC().Format(time.RFC3339), next.UTC().Format(time.RFC3339)))
		}
		p.CampaignID, p.Tick = campaignID, tick.UTC()
		if err := tx.createPost(by, p); err != nil {
			return err
		}
		return tx.audit(by, "campaign.tick", campaignObject(c.Name), fmt.Sprintf("tick %s became post %d; next %s",
			tick.UTC().Format(time.RFC3339), p.ID, next.UTC().Format(time.RFC3339)))
	})
}
