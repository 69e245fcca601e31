package sqlite

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/tact-hq/tact/daemon/queue"
)

const incidentColumns = `i.id, i.rule_id, i.action, i.resume, i.state, i.declared, i.note, i.opened_by, i.opened_at,
	i.last_item_at, i.closes_at, i.closed_at`

func scanIncident(s scanner) (*queue.Incident, error) {
	var (
		in                               queue.Incident
		state, openedBy                  string
		opened, lastItem, closes, closed int64
	)
	if err := s.Scan(&in.ID, &in.RuleID, &in.Action, &in.Resume, &state, &in.Declared, &in.Note, &openedBy, &opened,
		&lastItem, &closes, &closed); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(openedBy), &in.OpenedBy); err != nil {
		return nil, fmt.Errorf("incident %d: damaged opened_by: %w", in.ID, err)
	}
	in.State = queue.IncidentState(state)
	in.OpenedAt, in.LastItemAt, in.ClosesAt, in.ClosedAt = fromNano(opened), fromNano(lastItem), fromNano(closes), fromNano(closed)
	return &in, nil
}

// incidents loads incidents (with evidence) matching the SQL after FROM incidents i.
func (tx *tx) incidents(where string, args ...any) ([]*queue.Incident, error) {
	rows, err := tx.query(`SELECT `+incidentColumns+` FROM incidents i `+where, args...)
	if err != nil {
		return nil, err
	}
	var ins []*queue.Incident
	for rows.Next() {
		in, err := scanIncident(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		ins = append(ins, in)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for _, in := range ins {
		if in.Evidence, err = tx.evidence(in.ID); err != nil {
			return nil, err
		}
	}
	return ins, nil
}

func (tx *tx) incident(id int64) (*queue.Incident, error) {
	ins, err := tx.incidents(`WHERE i.id = ?`, id)
	if err != nil {
		return nil, err
	}
	if len(ins) == 0 {
		return nil, queue.Errorf(queue.NotFound, "incident", "no incident with id %d", id)
	}
	return ins[0], nil
}

func (tx *tx) evidence(incidentID int64) ([]queue.Evidence, error) {
	rows, err := tx.query(`SELECT item_id, source, title, url, published_at, terms FROM incident_evidence WHERE incident_id = ? ORDER BY id`, incidentID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ev []queue.Evidence
	for rows.Next() {
		var (
			e     queue.Evidence
			pub   int64
			terms string
		)
		if err := rows.Scan(&e.ItemID, &e.Source, &e.Title, &e.URL, &pub, &terms); err != nil {
			return nil, err
		}
		e.PublishedAt = fromNano(pub)
		if e.Terms, err = parseList[string](terms); err != nil {
			return nil, err
		}
		ev = append(ev, e)
	}
	return ev, rows.Err()
}

// addEvidence stores the items not yet recorded on the incident (by item id, else by
// source and title) and returns how many were new.
func (tx *tx) addEvidence(incidentID int64, ev []queue.Evidence) (int, error) {
	n := 0
	for _, e := range ev {
		key := fmt.Sprintf("item:%d", e.ItemID)
		if e.ItemID == 0 {
			key = "title:" + e.Source + "\x00" + e.Title
		}
		res, err := tx.exec(`INSERT OR IGNORE INTO incident_evidence (incident_id, item_id, source, title, url, published_at, terms, dedup_key)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, incidentID, e.ItemID, e.Source, e.Title, e.URL, unixNano(e.PublishedAt), jsonList(e.Terms), key)
		if err != nil {
			return n, err
		}
		if k, _ := res.RowsAffected(); k == 1 {
			n++
		}
	}
	return n, nil
}

// RecordIncident opens an incident for the rule or extends the one already open.
func (db *DB) RecordIncident(ctx context.Context, in *queue.Incident) (stored *queue.Incident, opened bool, err error) {
	if err := in.Validate(); err != nil {
		return nil, false, err
	}
	err = db.update(ctx, func(tx *tx) error {
		opened = false
		cur, err := tx.incidents(`WHERE i.rule_id = ? AND i.state = 'open'`, in.RuleID)
		if err != nil {
			return err
		}
		if len(cur) == 1 {
			old := cur[0]
			last, closes := maxTime(old.LastItemAt, in.LastItemAt), maxTime(old.ClosesAt, in.ClosesAt)
			// A person declaring what a rule already saw keeps one incident, with their note.
			if _, err := tx.exec(`UPDATE incidents SET last_item_at = ?, closes_at = ?, declared = declared OR ?,
				note = CASE WHEN ? <> '' THEN ? ELSE note END WHERE id = ? AND state = 'open'`,
				unixNano(last), unixNano(closes), in.Declared, in.Note, in.Note, old.ID); err != nil {
				return err
			}
			n, err := tx.addEvidence(old.ID, in.Evidence)
			if err != nil {
				return err
			}
			if n > 0 || !closes.Equal(old.ClosesAt) || in.Note != "" {
				if err := tx.audit(in.OpenedBy, "incident.extend", fmt.Sprintf("incident:%d", old.ID),
					fmt.Sprintf("rule %s: %d new items, closes %s", in.RuleID, n, closes.Format(time.RFC3339))); err != nil {
					return err
				}
			}
			stored, err = tx.incident(old.ID)
			return err
		}
		openedAt := in.OpenedAt
		if openedAt.IsZero() {
			openedAt = tx.now
		}
		last := in.LastItemAt
		if last.IsZero() {
			last = openedAt
		}
		res, err := tx.exec(`INSERT INTO incidents (rule_id, action, resume, state, declared, note, opened_by, opened_at,
			last_item_at, closes_at) VALUES (?, ?, ?, 'open', ?, ?, ?, ?, ?, ?)`,
			in.RuleID, in.Action, in.Resume, in.Declared, in.Note, encodeJSON(in.OpenedBy), unixNano(openedAt), unixNano(last), unixNano(in.ClosesAt))
		if err != nil {
			return err
		}
		id, err := res.LastInsertId()
		if err != nil {
			return err
		}
		if _, err := tx.addEvidence(id, in.Evidence); err != nil {
			return err
		}
		detail := fmt.Sprintf("rule %s (%s, resume %s), closes %s", in.RuleID, in.Action, in.Resume, in.ClosesAt.UTC().Format(time.RFC3339))
		if in.Declared {
			detail = "declared: " + in.Note + "; " + detail
		}
		if len(in.Evidence) > 0 {
			detail += "; evidence: " + evidenceSummary(in.Evidence)
		}
		if err := tx.audit(in.OpenedBy, "incident.open", fmt.Sprintf("incident:%d", id), detail); err != nil {
			return err
		}
		opened = true
		stored, err = tx.incident(id)
		return err
	})
	return stored, opened, err
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b.UTC()
	}
	return a.UTC()
}

// ApplyIncident pauses, holds and flags as a says, in one transaction. Campaigns already
// paused and posts no longer pending or approved are skipped: the incident changes only
// what it can still stop.
func (db *DB) ApplyIncident(ctx context.Context, incidentID int64, a queue.IncidentAction) (eff queue.IncidentEffect, err error) {
	err = db.update(ctx, func(tx *tx) error {
		eff = queue.IncidentEffect{}
		in, err := tx.incident(incidentID)
		if err != nil {
			return err
		}
		if in.State != queue.IncidentOpen {
			return queue.Errorf(queue.Conflict, "incident", "incident %d (rule %s) is %s: it no longer acts on the queue", in.ID, in.RuleID, in.State)
		}
		rule := queue.Actor{Kind: queue.ActorRule, Name: in.RuleID}
		reason := "rule " + in.RuleID
		if len(in.Evidence) > 0 {
			reason += ": " + in.Evidence[0].Title
		} else if in.Note != "" {
			reason += ": " + in.Note
		}
		p := queue.Pause{By: rule, Reason: reason, RuleID: in.RuleID, IncidentID: in.ID, Evidence: in.Evidence, At: tx.now}
		for _, id := range a.PauseCampaigns {
			c, err := tx.campaign(id)
			if err != nil {
				return err
			}
			// Remember the incident covers the campaign even if it is already paused, so
			// closing another incident does not resume it under this one.
			if _, err := tx.exec(`INSERT OR IGNORE INTO incident_campaigns (incident_id, campaign_id) VALUES (?, ?)`, in.ID, id); err != nil {
				return err
			}
			ok, err := tx.pauseCampaign(c, p, false)
			if err != nil {
				return err
			}
			if ok {
				eff.Paused = append(eff.Paused, id)
			}
		}
		for _, id := range a.HoldPosts {
			post, err := tx.post(id)
			if queue.ErrorKind(err) == queue.NotFound {
				continue // deleted since the rule engine saw it
			}
			if err != nil {
				return err
			}
			if post.State != queue.PostPending && post.State != queue.PostApproved {
				continue
			}
			if err := tx.move(rule, post, queue.EventHold, reason); err != nil {
				return err
			}
			eff.Held = append(eff.Held, id)
		}
		for _, id := range a.FlagPosts {
			post, err := tx.post(id)
			if queue.ErrorKind(err) == queue.NotFound {
				continue
			}
			if err != nil {
				return err
			}
			if slices.Contains(post.Flags, in.RuleID) {
				continue
			}
			post.Flags = append(post.Flags, in.RuleID)
			res, err := tx.exec(`UPDATE posts SET flags = ?, version = version + 1, updated_at = ? WHERE id = ? AND version = ?`,
				jsonList(post.Flags), unixNano(tx.now), post.ID, post.Version)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n != 1 {
				return tx.stale(post)
			}
			if err := tx.audit(rule, "post.flag", postObject(post.ID), reason); err != nil {
				return err
			}
			eff.Flagged = append(eff.Flagged, id)
		}
		return nil
	})
	return eff, err
}

// CloseExpired closes the open incidents whose ClosesAt has passed.
func (db *DB) CloseExpired(ctx context.Context, now time.Time) (closed []*queue.Incident, err error) {
	if now.IsZero() {
		now = db.now()
	}
	if !db.anything(ctx, func(tx *tx) ([]int64, error) {
		return tx.ids(`SELECT id FROM incidents WHERE state = 'open' AND closes_at <= ?`, unixNano(now))
	}) {
		return nil, nil
	}
	err = db.update(ctx, func(tx *tx) error {
		closed = nil
		ins, err := tx.incidents(`WHERE i.state = 'open' AND i.closes_at <= ? ORDER BY i.id`, unixNano(now))
		if err != nil {
			return err
		}
		for _, in := range ins {
			if err := tx.closeIncident(queue.Actor{Kind: queue.ActorRule, Name: in.RuleID}, in, queue.IncidentClosed, "",
				fmt.Sprintf("no new matching item since %s", in.LastItemAt.Format(time.RFC3339))); err != nil {
				return err
			}
			closed = append(closed, in)
		}
		return nil
	})
	return closed, err
}

// ResolveIncident closes an open incident by hand.
func (db *DB) ResolveIncident(ctx context.Context, by queue.Actor, id int64, note string) (in *queue.Incident, err error) {
	err = db.update(ctx, func(tx *tx) error {
		in, err = tx.incident(id)
		if err != nil {
			return err
		}
		if in.State != queue.IncidentOpen {
			return queue.Errorf(queue.Conflict, "state", "incident %d (rule %s) is already %s", in.ID, in.RuleID, in.State)
		}
		return tx.closeIncident(by, in, queue.IncidentResolved, note, note)
	})
	return in, err
}

// closeIncident ends an open incident and, for resume=auto, resumes the campaigns it paused.
// A campaign another open pausing incident also covers is handed over to that incident
// instead, so it resumes (or not) when that one ends.
func (tx *tx) closeIncident(by queue.Actor, in *queue.Incident, state queue.IncidentState, note, why string) error {
	res, err := tx.exec(`UPDATE incidents SET state = ?, closed_at = ?, note = CASE WHEN ? <> '' THEN ? ELSE note END
		WHERE id = ? AND state = 'open'`, string(state), unixNano(tx.now), note, note, in.ID)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return queue.Errorf(queue.Conflict, "state", "incident %d changed while closing it", in.ID)
	}
	in.State, in.ClosedAt = state, tx.now
	if note != "" {
		in.Note = note
	}
	action := "incident.close"
	if state == queue.IncidentResolved {
		action = "incident.resolve"
	}
	if err := tx.audit(by, action, fmt.Sprintf("incident:%d", in.ID), "rule "+in.RuleID+": "+why); err != nil {
		return err
	}
	cs, err := tx.campaigns(`SELECT `+campaignColumns+` FROM campaigns c WHERE c.pause_incident = ? AND c.state = 'paused' ORDER BY c.id`, in.ID)
	if err != nil {
		return err
	}
	for _, c := range cs {
		others, err := tx.incidents(`WHERE i.state = 'open' AND i.action = 'pause' AND i.id IN
			(SELECT incident_id FROM incident_campaigns WHERE campaign_id = ?) ORDER BY i.id`, c.ID)
		if err != nil {
			return err
		}
		if len(others) > 0 {
			next := others[0]
			reason := "rule " + next.RuleID
			if len(next.Evidence) > 0 {
				reason += ": " + next.Evidence[0].Title
			}
			p := queue.Pause{By: queue.Actor{Kind: queue.ActorRule, Name: next.RuleID}, Reason: reason, RuleID: next.RuleID,
				IncidentID: next.ID, Evidence: next.Evidence, At: tx.now}
			if _, err := tx.exec(`UPDATE campaigns SET pause = ?, pause_incident = ?, version = version + 1, updated_at = ? WHERE id = ?`,
				encodeJSON(p), next.ID, unixNano(tx.now), c.ID); err != nil {
				return err
			}
			if err := tx.audit(p.By, "campaign.pause", campaignObject(c.Name), fmt.Sprintf("still paused: incident %d ended but incident %d (%s) covers it", in.ID, next.ID, reason)); err != nil {
				return err
			}
			continue
		}
		if in.Resume != "auto" {
			continue
		}
		if err := tx.resumeCampaign(queue.Actor{Kind: queue.ActorRule, Name: in.RuleID}, c,
			fmt.Sprintf("incident %d %s and rule %s resumes automatically", in.ID, state, in.RuleID)); err != nil {
			return err
		}
	}
	return nil
}

func (db *DB) Incident(ctx context.Context, id int64) (in *queue.Incident, err error) {
	err = db.view(ctx, func(tx *tx) error { in, err = tx.incident(id); return err })
	return in, err
}

// Incidents lists incidents, newest first (limit default 1000, at most 10,000: callers
// asking for every open incident, one per rule at most, get them all).
func (db *DB) Incidents(ctx context.Context, f queue.IncidentFilter) (ins []*queue.Incident, err error) {
	limit := f.Limit
	switch {
	case limit <= 0:
		limit = 1000
	case limit > 10000:
		limit = 10000
	}
	where := `WHERE 1 = 1`
	var args []any
	if len(f.States) > 0 {
		where += ` AND i.state IN (` + placeholders(len(f.States)) + `)`
		for _, s := range f.States {
			args = append(args, string(s))
		}
	}
	if f.RuleID != "" {
		where += ` AND i.rule_id = ?`
		args = append(args, f.RuleID)
	}
	if !f.Since.IsZero() {
		where += ` AND (i.opened_at >= ? OR i.state = 'open' OR i.closed_at >= ?)`
		args = append(args, unixNano(f.Since), unixNano(f.Since))
	}
	args = append(args, limit)
	err = db.view(ctx, func(tx *tx) error {
		ins, err = tx.incidents(where+` ORDER BY i.opened_at DESC, i.id DESC LIMIT ?`, args...)
		return err
	})
	return ins, err
}
