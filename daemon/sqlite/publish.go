package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/tact-hq/tact/daemon/queue"
)

// claimPage is how many candidate deliveries ClaimDue reads at a time.
const claimPage = 200

// missReason tells people when the post was due, in its campaign's zone, and the grace.
func missReason(p *queue.Post, c *queue.Campaign) string {
	loc, err := time.LoadLocation(c.TimeZone)
	if err != nil {
		loc = time.UTC
	}
	return fmt.Sprintf("due at %s passed more than %s ago", p.DueAt.In(loc).Format("2006-01-02 15:04 MST"), queue.ShortDuration(c.LateAfter()))
}

// started reports whether any of p's deliveries has been attempted: such a post is under
// way and is never turned into missed.
func started(p *queue.Post) bool {
	for _, d := range p.Deliveries {
		if d.Attempts > 0 || d.State != queue.DeliveryWaiting {
			return true
		}
	}
	return false
}

// ClaimDue marks due deliveries publishing. Everything that decides whether a post may go —
// its campaign active, not too late, the account's limits, the gate over open incidents —
// is checked in the same write transaction that marks it, so nothing decided from a stale
// view is ever published.
//
// r.Gate runs inside that transaction, which holds the store's only write connection: it
// may read through the store but must not write through it (that would wait forever).
func (db *DB) ClaimDue(ctx context.Context, r queue.ClaimRequest) (claims []*queue.Claim, err error) {
	limit := r.Limit
	if limit <= 0 {
		limit = 10
	}
	now := r.Now.UTC()
	if r.Now.IsZero() {
		now = db.now().UTC()
	}
	// Most calls find nothing due. Asking a read snapshot first keeps those from taking
	// the write lock and paying for a commit; anything found is re-checked under the lock.
	var due bool
	if err := db.view(ctx, func(tx *tx) error {
		cands, err := tx.claimCandidates(now, candidate{due: -1 << 63}, 1)
		due = len(cands) > 0
		return err
	}); err != nil || !due {
		return nil, err
	}
	err = db.update(ctx, func(tx *tx) error {
		claims = nil
		tx.now = now
		var open []*queue.Incident
		if r.Gate != nil {
			var err error
			if open, err = tx.incidents(`WHERE i.state = 'open' ORDER BY i.id`); err != nil {
				return err
			}
		}
		inflight, err := tx.inflightByAccount()
		if err != nil {
			return err
		}
		var (
			campaigns = map[int64]*queue.Campaign{}
			posts     = map[int64]*queue.Post{}
			skip      = map[int64]bool{} // posts settled in this call (missed, held, gated)
			blocked   = map[string]bool{}
			lastStart = map[string]time.Time{}
			after     = candidate{due: -1 << 63}
			publisher = queue.System("publisher")
		)
		for len(claims) < limit {
			cands, err := tx.claimCandidates(now, after, limit)
			if err != nil {
				return err
			}
			if len(cands) == 0 {
				return nil
			}
			for _, cd := range cands {
				after = cd
				if len(claims) >= limit {
					return nil
				}
				if skip[cd.postID] || blocked[cd.account] {
					continue
				}
				p := posts[cd.postID]
				if p == nil {
					if p, err = tx.post(cd.postID); err != nil {
						return err
					}
					posts[p.ID] = p
				}
				c := campaigns[p.CampaignID]
				if c == nil {
					if c, err = tx.campaign(p.CampaignID); err != nil {
						return err
					}
					campaigns[c.ID] = c
				}
				if p.State == queue.PostApproved && !started(p) && now.Sub(p.DueAt) > c.LateAfter() {
					// Resuming a campaign or restarting the daemon never floods the network.
					skip[p.ID] = true
					if err := tx.move(publisher, p, queue.EventMiss, missReason(p, c)); err != nil {
						return err
					}
					continue
				}
				lim := queue.LimitOf(r.Limits, cd.account)
				if inflight[cd.account] >= lim.Concurrency {
					blocked[cd.account] = true
					continue
				}
				last, ok := lastStart[cd.account]
				if !ok {
					if last, err = tx.lastStart(cd.account); err != nil {
						return err
					}
					lastStart[cd.account] = last
				}
				if !last.IsZero() && last.Add(lim.Spacing).After(now) {
					blocked[cd.account] = true
					continue
				}
				if r.Gate != nil {
					if reason, hold := r.Gate(c, p, open); reason != "" {
						skip[p.ID] = true
						if hold && p.State == queue.PostApproved {
							if err := tx.move(gateActor(reason, open), p, queue.EventHold, reason); err != nil {
								return err
							}
						}
						continue
					}
				}
				d, err := tx.claim(p, cd.deliveryID)
				if err != nil {
					return err
				}
				inflight[cd.account]++
				lastStart[cd.account] = now
				claims = append(claims, &queue.Claim{Delivery: d, Post: p, Campaign: c})
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return claims, nil
}

// gateActor names the rule whose open incident the gate's reason cites, so the audit log
// says which rule held the post; otherwise the publisher is the actor.
func gateActor(reason string, open []*queue.Incident) queue.Actor {
	for _, in := range open {
		if in.Action == "hold" && strings.Contains(reason, in.RuleID) {
			return queue.Actor{Kind: queue.ActorRule, Name: in.RuleID}
		}
	}
	return queue.System("publisher")
}

type candidate struct {
	deliveryID, postID int64
	account            string
	due                int64
}

// qClaimCandidates selects waiting deliveries of due, approved (or partly published) posts
// in active campaigns, after a keyset position (due, post id, delivery id). The partial
// index keeps it proportional to the posts that are due, not to the whole queue.
const qClaimCandidates = `SELECT d.id, d.post_id, d.account, p.due_at
	FROM posts p INDEXED BY posts_claimable
	JOIN campaigns c ON c.id = p.campaign_id
	JOIN deliveries d ON d.post_id = p.id
	WHERE p.state IN ('approved', 'publishing') AND p.due_at <= ? AND c.state = 'active'
	  AND d.state = 'waiting' AND d.next_attempt_at <= ? AND (p.due_at, p.id, d.id) > (?, ?, ?)
	ORDER BY p.due_at, p.id, d.id LIMIT ?`

func (tx *tx) claimCandidates(now time.Time, after candidate, limit int) ([]candidate, error) {
	// A few more than asked, for the ones limits or the gate skip; the keyset reads on if needed.
	page := min(max(2*limit, 16), claimPage)
	rows, err := tx.query(qClaimCandidates, unixNano(now), unixNano(now), after.due, after.postID, after.deliveryID, page)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var cs []candidate
	for rows.Next() {
		var c candidate
		if err := rows.Scan(&c.deliveryID, &c.postID, &c.account, &c.due); err != nil {
			return nil, err
		}
		cs = append(cs, c)
	}
	return cs, rows.Err()
}

func (tx *tx) inflightByAccount() (map[string]int, error) {
	rows, err := tx.query(`SELECT account, COUNT(*) FROM deliveries WHERE state = 'publishing' GROUP BY account`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	m := map[string]int{}
	for rows.Next() {
		var (
			a string
			n int
		)
		if err := rows.Scan(&a, &n); err != nil {
			return nil, err
		}
		m[a] = n
	}
	return m, rows.Err()
}

func (tx *tx) lastStart(account string) (time.Time, error) {
	var n sql.NullInt64
	err := tx.queryRow(`SELECT started_at FROM deliveries WHERE account = ? AND started_at <> 0 ORDER BY started_at DESC LIMIT 1`, account).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, nil
	}
	return fromNano(n.Int64), err
}

// claim marks one waiting delivery of p publishing, and p with it.
func (tx *tx) claim(p *queue.Post, deliveryID int64) (*queue.Delivery, error) {
	var d *queue.Delivery
	for _, x := range p.Deliveries {
		if x.ID == deliveryID {
			d = x
		}
	}
	if d == nil {
		return nil, fmt.Errorf("delivery %d is not one of post %d's", deliveryID, p.ID)
	}
	dc, err := d.Claim(tx.now)
	if err != nil {
		return nil, err
	}
	ok, err := tx.moveDelivery(dc)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, queue.Errorf(queue.Conflict, "delivery", "delivery %d is no longer waiting", deliveryID)
	}
	*d = dc.Delivery
	if p.State == queue.PostPublishing {
		err = tx.touch(p)
	} else {
		err = tx.move(queue.System("publisher"), p, queue.EventClaim, "")
	}
	if err != nil {
		return nil, err
	}
	return d, tx.audit(queue.System("publisher"), "delivery.publishing", postObject(p.ID),
		fmt.Sprintf("account %s, attempt %d, key %s", d.Account, d.Attempts, d.IdempotencyKey))
}

func (tx *tx) delivery(id int64) (*queue.Delivery, error) {
	d, err := scanDelivery(tx.queryRow(`SELECT `+deliveryColumns+` FROM deliveries d WHERE d.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, queue.Errorf(queue.NotFound, "delivery", "no delivery with id %d", id)
	}
	return d, err
}

// Finish records how a claimed delivery's publish ended and moves the post to the state
// its deliveries add up to.
func (db *DB) Finish(ctx context.Context, deliveryID int64, o queue.Outcome) error {
	if err := o.Check(); err != nil {
		return err
	}
	publisher := queue.System("publisher")
	return db.update(ctx, func(tx *tx) error {
		d, err := tx.delivery(deliveryID)
		if err != nil {
			return err
		}
		dc, err := d.Finish(o, tx.now)
		if err != nil {
			return err
		}
		ok, err := tx.moveDelivery(dc)
		if err != nil {
			return err
		}
		if !ok {
			return queue.Errorf(queue.Conflict, "state", "delivery %d changed while its outcome was being recorded", d.ID)
		}
		detail := "account " + d.Account
		switch {
		case o.State == queue.DeliveryPublished:
			detail += ", remote id " + o.RemoteID
			if o.URL != "" {
				detail += ", " + o.URL
			}
		case o.State == queue.DeliveryWaiting && !o.RetryAt.IsZero():
			detail += ", retry at " + o.RetryAt.UTC().Format(time.RFC3339) + ": " + o.Error
		case o.Error != "":
			detail += ": " + o.Error
		}
		if err := tx.audit(publisher, "delivery."+string(o.State), postObject(d.PostID), detail); err != nil {
			return err
		}
		if o.AuthError {
			if err := tx.setAccountStatus(queue.AccountStatus{Account: d.Account, Healthy: false, Detail: "auth: " + o.Error}); err != nil {
				return err
			}
		}
		p, err := tx.post(d.PostID)
		if err != nil {
			return err
		}
		return tx.settle(p)
	})
}

// settle moves a post whose deliveries changed to the state they add up to
// (queue.Post.Settle), and holds it if one of its accounts needs attention.
func (tx *tx) settle(p *queue.Post) error {
	publisher := queue.System("publisher")
	var err error
	if ev, reason, ok := p.Settle(); ok {
		err = tx.move(publisher, p, ev, reason)
	} else {
		err = tx.touch(p)
	}
	if err != nil || p.State != queue.PostApproved {
		return err
	}
	var account, lastErr string
	err = tx.queryRow(`SELECT account, last_error FROM deliveries WHERE post_id = ? AND state = ? AND auth_error = 1 ORDER BY id LIMIT 1`,
		p.ID, string(queue.DeliveryWaiting)).Scan(&account, &lastErr)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return err
	}
	// The hold consumes the mark: after a person releases and approves again, it is sent.
	if _, err := tx.exec(`UPDATE deliveries SET auth_error = 0 WHERE post_id = ?`, p.ID); err != nil {
		return err
	}
	return tx.move(publisher, p, queue.EventHold, queue.AuthHoldReason(account, lastErr))
}

// InFlight returns the deliveries marked publishing, oldest first: after a crash, each must
// be resolved through the plugin's Lookup, never sent again blindly.
func (db *DB) InFlight(ctx context.Context) (claims []*queue.Claim, err error) {
	err = db.view(ctx, func(tx *tx) error {
		rows, err := tx.query(`SELECT d.id, d.post_id FROM deliveries d WHERE d.state = 'publishing' ORDER BY d.started_at, d.id`)
		if err != nil {
			return err
		}
		type ref struct{ d, p int64 }
		var refs []ref
		for rows.Next() {
			var r ref
			if err := rows.Scan(&r.d, &r.p); err != nil {
				rows.Close()
				return err
			}
			refs = append(refs, r)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		posts := map[int64]*queue.Post{}
		campaigns := map[int64]*queue.Campaign{}
		for _, r := range refs {
			p := posts[r.p]
			if p == nil {
				if p, err = tx.post(r.p); err != nil {
					return err
				}
				posts[r.p] = p
			}
			c := campaigns[p.CampaignID]
			if c == nil {
				if c, err = tx.campaign(p.CampaignID); err != nil {
					return err
				}
				campaigns[c.ID] = c
			}
			for _, d := range p.Deliveries {
				if d.ID == r.d {
					claims = append(claims, &queue.Claim{Delivery: d, Post: p, Campaign: c})
				}
			}
		}
		return nil
	})
	return claims, err
}

// qAutoApprove selects pending posts of active autopilot campaigns whose veto window has
// begun (due - veto <= now) and that no network refuses.
const qAutoApprove = `SELECT p.id FROM posts p INDEXED BY posts_state_due JOIN campaigns c ON c.id = p.campaign_id
	WHERE p.state = 'pending' AND p.due_at <= ? AND c.state = 'active' AND c.approval = 'autopilot'
	  AND p.due_at - c.veto <= ? AND p.problems = '[]'
	ORDER BY p.due_at, p.id`

// AutoApprove approves the pending posts of active autopilot campaigns whose veto window
// has begun, unless a network refuses them (problems).
func (db *DB) AutoApprove(ctx context.Context, now time.Time) (n int, err error) {
	if now.IsZero() {
		now = db.now()
	}
	// The longest veto bounds the index range: no post due later can be in its window.
	var maxVeto sql.NullInt64
	find := func(tx *tx) ([]int64, error) {
		if err := tx.queryRow(`SELECT MAX(veto) FROM campaigns WHERE state = 'active' AND approval = 'autopilot'`).Scan(&maxVeto); err != nil || !maxVeto.Valid {
			return nil, err
		}
		return tx.ids(qAutoApprove, unixNano(now)+maxVeto.Int64, unixNano(now))
	}
	if !db.anything(ctx, find) {
		return 0, nil
	}
	autopilot := queue.System("autopilot")
	err = db.update(ctx, func(tx *tx) error {
		n = 0
		ids, err := find(tx)
		if err != nil {
			return err
		}
		for _, id := range ids {
			p, err := tx.post(id)
			if err != nil {
				return err
			}
			c, err := tx.campaign(p.CampaignID)
			if err != nil {
				return err
			}
			if err := tx.move(autopilot, p, queue.EventApprove, "veto window of "+queue.ShortDuration(c.Veto.D())+" began"); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	return n, err
}

// qMissed selects posts in one state more than their campaign's late overdue. The first
// bound (now minus the shortest late) lets the index skip everything not yet due.
const qMissed = `SELECT p.id FROM posts p INDEXED BY posts_state_due JOIN campaigns c ON c.id = p.campaign_id
	WHERE p.state = ? AND p.due_at < ? AND p.due_at < ? - c.late AND (? OR c.state = 'active')
	ORDER BY p.due_at, p.id`

// MarkMissed turns posts more than their campaign's late overdue into missed, so that
// nobody is surprised by a stale post going out; approved posts of a paused campaign wait
// for the person who resumes it, and a post whose publishing has started is never missed.
func (db *DB) MarkMissed(ctx context.Context, now time.Time) (n int, err error) {
	if now.IsZero() {
		now = db.now()
	}
	find := func(tx *tx) ([]int64, error) {
		var minLate sql.NullInt64
		if err := tx.queryRow(`SELECT MIN(late) FROM campaigns`).Scan(&minLate); err != nil || !minLate.Valid {
			return nil, err
		}
		var all []int64
		for _, s := range []queue.PostState{queue.PostPending, queue.PostHeld, queue.PostApproved} {
			ids, err := tx.ids(qMissed, string(s), unixNano(now)-minLate.Int64, unixNano(now), s != queue.PostApproved)
			if err != nil {
				return nil, err
			}
			all = append(all, ids...)
		}
		return all, nil
	}
	if !db.anything(ctx, find) {
		return 0, nil
	}
	scheduler := queue.System("scheduler")
	err = db.update(ctx, func(tx *tx) error {
		n = 0
		ids, err := find(tx)
		if err != nil {
			return err
		}
		for _, id := range ids {
			p, err := tx.post(id)
			if err != nil {
				return err
			}
			if started(p) {
				continue // a retry in backoff is not missed
			}
			c, err := tx.campaign(p.CampaignID)
			if err != nil {
				return err
			}
			if err := tx.move(scheduler, p, queue.EventMiss, missReason(p, c)); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	return n, err
}

// anything reports whether find finds work in a read snapshot. Periodic calls that usually
// find nothing then cost a read, not the write lock and a commit; whatever is found is found
// again, and re-checked, inside the write transaction.
func (db *DB) anything(ctx context.Context, find func(*tx) ([]int64, error)) bool {
	var found bool
	err := db.view(ctx, func(tx *tx) error {
		ids, err := find(tx)
		found = len(ids) > 0
		return err
	})
	return found || err != nil // on a read error, let the write path report it
}

// ids runs a query returning one id per row.
func (tx *tx) ids(q string, args ...any) ([]int64, error) {
	rows, err := tx.query(q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// qWakeDeliveries lists claimable posts soonest due first with their earliest retry time.
const qWakeDeliveries = `SELECT p.due_at, (SELECT MIN(d.next_attempt_at) FROM deliveries d WHERE d.post_id = p.id AND d.state = 'waiting')
	FROM posts p INDEXED BY posts_claimable JOIN campaigns c ON c.id = p.campaign_id
	WHERE p.state IN ('approved', 'publishing') AND c.state = 'active' ORDER BY p.due_at, p.id`

// qWakeAutopilot is the earliest time AutoApprove has work: per active autopilot campaign,
// its first pending post the networks accept (found through posts_campaign_state_due in due
// order) minus the campaign's veto window.
const qWakeAutopilot = `SELECT MIN((SELECT MIN(p.due_at) FROM posts p INDEXED BY posts_campaign_state_due
		WHERE p.campaign_id = c.id AND p.state = 'pending' AND p.problems = '[]') - c.veto)
	FROM campaigns c WHERE c.state = 'active' AND c.approval = 'autopilot'`

// qWakeRecurring is the earliest time a recurring campaign's next post is made: its next
// tick minus its lead (the default lead when it sets none).
const qWakeRecurring = `SELECT MIN(c.next_tick - CASE WHEN c.lead > 0 THEN c.lead ELSE ? END)
	FROM campaigns c WHERE c.state = 'active' AND c.schedule <> '' AND c.next_tick <> 0`

// NextWake returns the earliest time ClaimDue, AutoApprove or a recurring tick may have work,
// or when an open incident closes. It may be in the past (work is waiting, for example on an
// account's spacing); callers treat that as "now" and pace themselves.
func (db *DB) NextWake(ctx context.Context) (wake time.Time, err error) {
	err = db.view(ctx, func(tx *tx) error {
		var best int64
		consider := func(t int64) {
			if t != 0 && (best == 0 || t < best) {
				best = t
			}
		}
		// Deliveries: max(due, next attempt). Posts come in due order and max() >= due, so
		// the scan stops as soon as a post is due after the best time found.
		rows, err := tx.query(qWakeDeliveries)
		if err != nil {
			return err
		}
		for rows.Next() {
			var (
				due  int64
				next sql.NullInt64
			)
			if err := rows.Scan(&due, &next); err != nil {
				rows.Close()
				return err
			}
			if best != 0 && due >= best {
				break
			}
			if next.Valid {
				consider(max(due, next.Int64))
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		// Autopilot campaigns: their earliest approvable post minus the veto window, when
		// AutoApprove will take it. Recurring campaigns: their next tick minus the lead, when
		// the post for it is made. One aggregate each, whatever the number of campaigns:
		// the publisher asks this before every sleep.
		var autopilot, recurring sql.NullInt64
		if err := tx.queryRow(qWakeAutopilot).Scan(&autopilot); err != nil {
			return err
		}
		if autopilot.Valid {
			consider(autopilot.Int64)
		}
		if err := tx.queryRow(qWakeRecurring, int64(queue.DefaultLead)).Scan(&recurring); err != nil {
			return err
		}
		if recurring.Valid {
			consider(recurring.Int64)
		}
		var closes sql.NullInt64
		if err := tx.queryRow(`SELECT MIN(closes_at) FROM incidents WHERE state = 'open'`).Scan(&closes); err != nil {
			return err
		}
		if closes.Valid {
			consider(closes.Int64)
		}
		wake = fromNano(best)
		return nil
	})
	return wake, err
}
