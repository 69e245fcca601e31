package sqlite

import (
	"cmp"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tact-hq/tact/daemon/queue"
)

const postColumns = `p.id, p.campaign_id, c.name, p.text, p.link, p.media, p.accounts, p.due_at, p.state, p.reason,
	p.problems, p.flags, p.tick, p.approved_by, p.approved_at, p.version, p.created_at, p.updated_at`

const postFrom = ` FROM posts p JOIN campaigns c ON c.id = p.campaign_id`

func scanPost(s scanner) (*queue.Post, error) {
	var (
		p                                       queue.Post
		media, accounts, state, problems, flags string
		due, tick, approvedAt, created, updated int64
	)
	if err := s.Scan(&p.ID, &p.CampaignID, &p.Campaign, &p.Text, &p.Link, &media, &accounts, &due, &state, &p.Reason,
		&problems, &flags, &tick, &p.ApprovedBy, &approvedAt, &p.Version, &created, &updated); err != nil {
		return nil, err
	}
	var err error
	if p.Media, err = parseList[string](media); err != nil {
		return nil, err
	}
	if p.Accounts, err = parseList[string](accounts); err != nil {
		return nil, err
	}
	if p.Problems, err = parseList[string](problems); err != nil {
		return nil, err
	}
	if p.Flags, err = parseList[string](flags); err != nil {
		return nil, err
	}
	p.State = queue.PostState(state)
	p.DueAt, p.Tick, p.ApprovedAt = fromNano(due), fromNano(tick), fromNano(approvedAt)
	p.CreatedAt, p.UpdatedAt = fromNano(created), fromNano(updated)
	return &p, nil
}

const deliveryColumns = `d.id, d.post_id, d.account, d.state, d.idempotency_key, d.attempts, d.next_attempt_at, d.remote_id,
	d.url, d.last_error, d.started_at, d.finished_at`

func scanDelivery(s scanner) (*queue.Delivery, error) {
	var (
		d                       queue.Delivery
		state                   string
		next, started, finished int64
	)
	if err := s.Scan(&d.ID, &d.PostID, &d.Account, &state, &d.IdempotencyKey, &d.Attempts, &next, &d.RemoteID,
		&d.URL, &d.LastError, &started, &finished); err != nil {
		return nil, err
	}
	d.State = queue.DeliveryState(state)
	d.NextAttemptAt, d.StartedAt, d.FinishedAt = fromNano(next), fromNano(started), fromNano(finished)
	return &d, nil
}

// post loads one post with its deliveries.
func (tx *tx) post(id int64) (*queue.Post, error) {
	p, err := scanPost(tx.queryRow(`SELECT `+postColumns+postFrom+` WHERE p.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, queue.Errorf(queue.NotFound, "post", "no post with id %d", id)
	}
	if err != nil {
		return nil, err
	}
	return p, tx.loadDeliveries([]*queue.Post{p})
}

// posts runs a post query and loads the deliveries of what it found.
func (tx *tx) posts(q string, args ...any) ([]*queue.Post, error) {
	ps, err := tx.postRows(q, args...)
	if err != nil {
		return nil, err
	}
	return ps, tx.loadDeliveries(ps)
}

// postRows runs a post query without loading deliveries.
func (tx *tx) postRows(q string, args ...any) ([]*queue.Post, error) {
	rows, err := tx.query(q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ps []*queue.Post
	for rows.Next() {
		p, err := scanPost(rows)
		if err != nil {
			return nil, err
		}
		ps = append(ps, p)
	}
	return ps, rows.Err()
}

// deliveriesQuery reads the deliveries of n posts in order (through deliveries_post, 0003).
func deliveriesQuery(n int) string {
	return `SELECT ` + deliveryColumns + ` FROM deliveries d WHERE d.post_id IN (` + placeholders(n) + `) ORDER BY d.post_id, d.id`
}

// loadDeliveries fills the Deliveries of ps, a few hundred posts per query.
func (tx *tx) loadDeliveries(ps []*queue.Post) error {
	const chunk = 500
	byID := make(map[int64]*queue.Post, len(ps))
	for _, p := range ps {
		p.Deliveries = nil
		byID[p.ID] = p
	}
	for start := 0; start < len(ps); start += chunk {
		end := min(start+chunk, len(ps))
		ids := make([]any, 0, end-start)
		for _, p := range ps[start:end] {
			ids = append(ids, p.ID)
		}
		rows, err := tx.query(deliveriesQuery(len(ids)), ids...)
		if err != nil {
			return err
		}
		for rows.Next() {
			d, err := scanDelivery(rows)
			if err != nil {
				rows.Close()
				return err
			}
			if p := byID[d.PostID]; p != nil {
				p.Deliveries = append(p.Deliveries, d)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
	}
	return nil
}

// idempotencyKey is generated once per delivery and kept across retries, so a network
// that honours it never publishes the same delivery twice.
func idempotencyKey(postID int64, account string) string {
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		panic("tact: no randomness: " + err.Error())
	}
	return fmt.Sprintf("tact-%d-%s-%s", postID, account, hex.EncodeToString(b))
}

// createPost validates and inserts p with one waiting delivery per account.
func (tx *tx) createPost(by queue.Actor, p *queue.Post) error {
	var (
		c   *queue.Campaign
		err error
	)
	switch {
	case p.CampaignID != 0:
		c, err = tx.campaign(p.CampaignID)
	case p.Campaign != "":
		c, err = scanCampaign(tx.queryRow(`SELECT `+campaignColumns+` FROM campaigns c WHERE c.name = ?`, p.Campaign))
		if errors.Is(err, sql.ErrNoRows) {
			err = queue.Errorf(queue.NotFound, "campaign", "no campaign named %q: create it first", p.Campaign)
		}
	default:
		err = queue.Errorf(queue.Invalid, "campaign", "a post needs a campaign")
	}
	if err != nil {
		return err
	}
	if err := p.CheckNew(c); err != nil {
		return err
	}
	if err := tx.checkOpen(c); err != nil {
		return err
	}
	p.CampaignID, p.Campaign = c.ID, c.Name
	p.Version, p.CreatedAt, p.UpdatedAt = 1, tx.now, tx.now
	res, err := tx.exec(`INSERT INTO posts (campaign_id, text, link, media, accounts, due_at, state, problems, flags, tick,
		version, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		c.ID, p.Text, p.Link, jsonList(p.Media), jsonList(p.Accounts), unixNano(p.DueAt), string(p.State),
		jsonList(p.Problems), jsonList(p.Flags), unixNano(p.Tick), p.Version, unixNano(tx.now), unixNano(tx.now))
	if isUnique(err) {
		return queue.Errorf(queue.Conflict, "tick", "campaign %q already has a post for tick %s", c.Name, p.Tick.Format(time.RFC3339))
	}
	if err != nil {
		return err
	}
	if p.ID, err = res.LastInsertId(); err != nil {
		return err
	}
	tx.addedOpen(c.ID)
	p.Deliveries = nil
	for _, a := range p.Accounts {
		d, err := tx.addDelivery(p.ID, a)
		if err != nil {
			return err
		}
		p.Deliveries = append(p.Deliveries, d)
	}
	return tx.audit(by, "post.create", postObject(p.ID), fmt.Sprintf("campaign %s, due %s, accounts %s, %s",
		c.Name, p.DueAt.Format(time.RFC3339), strings.Join(p.Accounts, ", "), p.State))
}

func (tx *tx) addDelivery(postID int64, account string) (*queue.Delivery, error) {
	d := &queue.Delivery{PostID: postID, Account: account, State: queue.DeliveryWaiting, IdempotencyKey: idempotencyKey(postID, account)}
	res, err := tx.exec(`INSERT INTO deliveries (post_id, account, state, idempotency_key) VALUES (?, ?, 'waiting', ?)`,
		postID, account, d.IdempotencyKey)
	if err != nil {
		return nil, err
	}
	d.ID, err = res.LastInsertId()
	return d, err
}

// rowError says which of several posts an error is about, keeping its kind and field.
func rowError(i, n int, err error) error {
	var e *queue.Error
	if errors.As(err, &e) {
		return &queue.Error{Kind: e.Kind, Field: e.Field, Message: fmt.Sprintf("post %d of %d: %s", i+1, n, e.Message), Err: e.Err}
	}
	return fmt.Errorf("post %d of %d: %w", i+1, n, err)
}

// CreatePost stores p as draft or pending (default) with one waiting delivery per account.
func (db *DB) CreatePost(ctx context.Context, by queue.Actor, p *queue.Post) error {
	return db.update(ctx, func(tx *tx) error { return tx.createPost(by, p) })
}

// CreatePosts stores all of ps or, on the first error, none of them.
func (db *DB) CreatePosts(ctx context.Context, by queue.Actor, ps []*queue.Post) error {
	err := db.update(ctx, func(tx *tx) error {
		for i, p := range ps {
			if err := tx.createPost(by, p); err != nil {
				return rowError(i, len(ps), err)
			}
		}
		return nil
	})
	if err != nil {
		for _, p := range ps {
			p.ID, p.Deliveries = 0, nil // nothing was stored
		}
	}
	return err
}

func (db *DB) Post(ctx context.Context, id int64) (p *queue.Post, err error) {
	err = db.view(ctx, func(tx *tx) error { p, err = tx.post(id); return err })
	return p, err
}

// cursor is the position after the last post of a page: posts are ordered by (due_at, id).
func encodeCursor(p *queue.Post) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(unixNano(p.DueAt), 10) + ":" + strconv.FormatInt(p.ID, 10)))
}

func decodeCursor(s string) (due, id int64, err error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err == nil {
		d, i, ok := strings.Cut(string(b), ":")
		if ok {
			due, err = strconv.ParseInt(d, 10, 64)
			if err == nil {
				id, err = strconv.ParseInt(i, 10, 64)
				if err == nil {
					return due, id, nil
				}
			}
		}
	}
	return 0, 0, queue.Errorf(queue.Invalid, "cursor", "cursor %q is not one this server gave out: start the listing again without it", s)
}

// Posts lists posts soonest due first, a page at a time.
func (db *DB) Posts(ctx context.Context, f queue.PostFilter) (ps []*queue.Post, next string, err error) {
	// Several states are read one state at a time, each walking its index in due order, and
	// merged: one query over all of them would sort every matching post for each page.
	states := slices.Compact(slices.Sorted(slices.Values(f.States)))
	var queries []queue.PostFilter
	if len(states) > 1 {
		for _, s := range states {
			one := f
			one.States = []queue.PostState{s}
			queries = append(queries, one)
		}
	} else {
		queries = []queue.PostFilter{f}
	}
	limit := 0
	err = db.view(ctx, func(tx *tx) error {
		ps = nil
		for _, one := range queries {
			q, args, l, err := postsQuery(one)
			if err != nil {
				return err
			}
			limit = l
			part, err := tx.postRows(q, args...)
			if err != nil {
				return err
			}
			ps = append(ps, part...)
		}
		if len(queries) > 1 {
			slices.SortFunc(ps, func(a, b *queue.Post) int {
				if c := a.DueAt.Compare(b.DueAt); c != 0 {
					return c
				}
				return cmp.Compare(a.ID, b.ID)
			})
			ps = ps[:min(len(ps), limit+1)]
		}
		// The extra row only says there is a next page: it is dropped below.
		return tx.loadDeliveries(ps[:min(len(ps), limit)])
	})
	if err != nil {
		return nil, "", err
	}
	if len(ps) > limit {
		ps = ps[:limit]
		next = encodeCursor(ps[limit-1])
	}
	return ps, next, nil
}

// postsQuery builds the listing query for f; it reads one row more than the page so that
// Posts knows whether there is a next page.
func postsQuery(f queue.PostFilter) (q string, args []any, limit int, err error) {
	limit = f.Limit
	switch {
	case limit <= 0:
		limit = 100
	case limit > 1000:
		limit = 1000
	}
	q = `SELECT ` + postColumns + postFrom + ` WHERE 1 = 1`
	if f.CampaignID != 0 {
		q += ` AND p.campaign_id = ?`
		args = append(args, f.CampaignID)
	}
	if len(f.States) > 0 {
		for _, s := range f.States {
			if !s.Valid() {
				return "", nil, 0, queue.Errorf(queue.Invalid, "state", "unknown post state %q", s)
			}
		}
		q += ` AND p.state IN (` + placeholders(len(f.States)) + `)`
		args = append(args, stateArgs(f.States)...)
	}
	if f.Account != "" {
		q += ` AND EXISTS (SELECT 1 FROM deliveries d WHERE d.post_id = p.id AND d.account = ?)`
		args = append(args, f.Account)
	}
	if !f.DueAfter.IsZero() {
		q += ` AND p.due_at >= ?`
		args = append(args, unixNano(f.DueAfter))
	}
	if !f.DueBefore.IsZero() {
		q += ` AND p.due_at < ?`
		args = append(args, unixNano(f.DueBefore))
	}
	if f.Cursor != "" {
		due, id, err := decodeCursor(f.Cursor)
		if err != nil {
			return "", nil, 0, err
		}
		q += ` AND (p.due_at, p.id) > (?, ?)`
		args = append(args, due, id)
	}
	q += ` ORDER BY p.due_at, p.id LIMIT ?`
	args = append(args, limit+1)
	return q, args, limit, nil
}

// move makes the compare-and-set transition of p by ev: the domain decides
// (queue.Post.Transition), the UPDATE only succeeds if the row is still in the state (and
// version) p was read in.
func (tx *tx) move(by queue.Actor, p *queue.Post, ev queue.Event, reason string) error {
	ch, err := p.Transition(by, ev, reason, tx.now)
	if err != nil {
		return err
	}
	return tx.write(by, p, ch)
}

// write stores ch, a move of p, with its deliveries' moves and the audit entry.
func (tx *tx) write(by queue.Actor, p *queue.Post, ch queue.PostChange) error {
	for _, dc := range ch.Deliveries {
		ok, err := tx.moveDelivery(dc)
		if err != nil {
			return err
		}
		if !ok {
			return queue.Errorf(queue.Conflict, "state", "delivery %d of post %d changed while it was being settled", dc.Delivery.ID, p.ID)
		}
	}
	res, err := tx.exec(`UPDATE posts SET state = ?, reason = ?, approved_by = ?, approved_at = ?, version = version + 1,
		updated_at = ? WHERE id = ? AND state = ? AND version = ?`,
		string(ch.To), ch.Reason, ch.ApprovedBy, unixNano(ch.ApprovedAt), unixNano(tx.now), p.ID, string(ch.From), p.Version)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return tx.stale(p)
	}
	p.Apply(ch, tx.now)
	return tx.audit(by, "post."+string(ch.Event), postObject(p.ID), ch.Detail)
}

// moveDelivery writes dc if the delivery is still in the state it was read in, and
// reports whether it was.
func (tx *tx) moveDelivery(dc queue.DeliveryChange) (bool, error) {
	d := dc.Delivery
	res, err := tx.exec(`UPDATE deliveries SET state = ?, attempts = ?, next_attempt_at = ?, remote_id = ?, url = ?, last_error = ?,
		auth_error = ?, started_at = ?, finished_at = ? WHERE id = ? AND state = ?`,
		string(d.State), d.Attempts, unixNano(d.NextAttemptAt), d.RemoteID, d.URL, d.LastError, dc.AuthError,
		unixNano(d.StartedAt), unixNano(d.FinishedAt), d.ID, string(dc.From))
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// stale explains why a compare-and-set on p found nothing to update.
func (tx *tx) stale(p *queue.Post) error {
	var (
		state   string
		version int64
	)
	err := tx.queryRow(`SELECT state, version FROM posts WHERE id = ?`, p.ID).Scan(&state, &version)
	if errors.Is(err, sql.ErrNoRows) {
		return queue.Errorf(queue.NotFound, "post", "post %d was deleted", p.ID)
	}
	if err != nil {
		return err
	}
	return queue.Errorf(queue.Conflict, "version", "post %d changed since it was read (now %s, version %d): reload it and try again", p.ID, state, version)
}

// touch bumps p's version for a change that is not a state move (deliveries, flags).
func (tx *tx) touch(p *queue.Post) error {
	res, err := tx.exec(`UPDATE posts SET version = version + 1, updated_at = ? WHERE id = ? AND version = ?`, unixNano(tx.now), p.ID, p.Version)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return tx.stale(p)
	}
	p.Version++
	p.UpdatedAt = tx.now
	return nil
}

// checkVersion refuses a change to a post someone else changed since the caller read it.
func checkVersion(p *queue.Post, version int64) error {
	if version != 0 && version != p.Version {
		return queue.Errorf(queue.Conflict, "version", "post %d changed since you read it (you have version %d, it is now %s at version %d): reload it and try again",
			p.ID, version, p.State, p.Version)
	}
	return nil
}

// EditPost applies e to an editable post; an approved post goes back to pending.
func (db *DB) EditPost(ctx context.Context, by queue.Actor, id, version int64, e queue.PostEdit) (p *queue.Post, err error) {
	err = db.update(ctx, func(tx *tx) error {
		p, err = tx.post(id)
		if err != nil {
			return err
		}
		if err := checkVersion(p, version); err != nil {
			return err
		}
		if !queue.Editable(p.State) {
			return queue.Errorf(queue.Conflict, "state", "post %d is %s: it can no longer be edited", p.ID, p.State)
		}
		c, err := tx.campaign(p.CampaignID)
		if err != nil {
			return err
		}
		edited := *p
		var changed []string
		if e.Text != nil && *e.Text != p.Text {
			edited.Text, changed = *e.Text, append(changed, "text")
		}
		if e.Link != nil && *e.Link != p.Link {
			edited.Link, changed = *e.Link, append(changed, "link")
		}
		if e.Media != nil && !slices.Equal(queue.NonEmpty(*e.Media), p.Media) {
			edited.Media, changed = slices.Clone(*e.Media), append(changed, "media")
		}
		if e.Accounts != nil {
			accounts := *e.Accounts
			if len(accounts) == 0 {
				return queue.Errorf(queue.Invalid, "accounts", "a post needs at least one account")
			}
			if !slices.Equal(queue.Names(accounts), p.Accounts) {
				edited.Accounts, changed = slices.Clone(accounts), append(changed, "accounts")
			}
		}
		if e.DueAt != nil && !e.DueAt.Equal(p.DueAt) {
			edited.DueAt, changed = *e.DueAt, append(changed, "due_at")
		}
		if e.Problems != nil && !slices.Equal(queue.NonEmpty(*e.Problems), p.Problems) {
			edited.Problems, changed = slices.Clone(*e.Problems), append(changed, "problems")
		}
		if err := edited.Check(c); err != nil {
			return err
		}
		if len(changed) == 0 {
			return nil // nothing changed: the approval stands
		}
		if slices.Contains(changed, "accounts") {
			if err := tx.setAccounts(p, edited.Accounts); err != nil {
				return err
			}
		}
		res, err := tx.exec(`UPDATE posts SET text = ?, link = ?, media = ?, accounts = ?, due_at = ?, problems = ?,
			version = version + 1, updated_at = ? WHERE id = ? AND version = ?`,
			edited.Text, edited.Link, jsonList(edited.Media), jsonList(edited.Accounts), unixNano(edited.DueAt),
			jsonList(edited.Problems), unixNano(tx.now), p.ID, p.Version)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return tx.stale(p)
		}
		edited.Version++
		if err := tx.audit(by, "post.edit", postObject(p.ID), "changed "+strings.Join(changed, ", ")); err != nil {
			return err
		}
		if err := tx.move(by, &edited, queue.EventEdit, ""); err != nil {
			return err
		}
		p, err = tx.post(id)
		return err
	})
	return p, err
}

// setAccounts adds and removes p's deliveries to match accounts. A delivery that went out
// (or may have) cannot be taken back.
func (tx *tx) setAccounts(p *queue.Post, accounts []string) error {
	for _, d := range p.Deliveries {
		if slices.Contains(accounts, d.Account) {
			continue
		}
		if d.State != queue.DeliveryWaiting {
			return queue.Errorf(queue.Conflict, "accounts", "post %d is already %s on account %q: that account cannot be removed", p.ID, d.State, d.Account)
		}
		if _, err := tx.exec(`DELETE FROM deliveries WHERE id = ? AND state = 'waiting'`, d.ID); err != nil {
			return err
		}
	}
	for _, a := range accounts {
		if !slices.ContainsFunc(p.Deliveries, func(d *queue.Delivery) bool { return d.Account == a }) {
			if _, err := tx.addDelivery(p.ID, a); err != nil {
				return err
			}
		}
	}
	return nil
}

// Apply moves a post by a person's event (or autopilot's approve). Retry, succeed and fail
// are for a post whose publishing ended failed or unknown; the publisher's own moves go
// through ClaimDue and Finish.
func (db *DB) Apply(ctx context.Context, by queue.Actor, id, version int64, ev queue.Event, reason string) (p *queue.Post, err error) {
	if !slices.Contains(queue.PersonEvents, ev) {
		return nil, queue.Errorf(queue.Invalid, "event", "%q is not something a person can do to a post (use one of: submit, approve, reject, hold, release, retry, succeed, fail)", ev)
	}
	reason = strings.TrimSpace(reason)
	err = db.update(ctx, func(tx *tx) error {
		p, err = tx.post(id)
		if err != nil {
			return err
		}
		if err := checkVersion(p, version); err != nil {
			return err
		}
		return tx.apply(by, p, ev, reason)
	})
	return p, err
}

func (tx *tx) apply(by queue.Actor, p *queue.Post, ev queue.Event, reason string) error {
	ch, err := p.PersonTransition(by, ev, reason, tx.now)
	if err != nil {
		return err
	}
	return tx.write(by, p, ch)
}

// DeletePost removes a post that has not gone out, with its deliveries.
func (db *DB) DeletePost(ctx context.Context, by queue.Actor, id, version int64) error {
	return db.update(ctx, func(tx *tx) error {
		p, err := tx.post(id)
		if err != nil {
			return err
		}
		if err := checkVersion(p, version); err != nil {
			return err
		}
		if p.State == queue.PostPublishing || p.State == queue.PostPublished {
			return queue.Errorf(queue.Conflict, "state", "post %d is %s: it cannot be deleted", p.ID, p.State)
		}
		for _, d := range p.Deliveries {
			if d.State == queue.DeliveryPublished || d.State == queue.DeliveryPublishing {
				return queue.Errorf(queue.Conflict, "state", "post %d is %s on account %q: it cannot be deleted", p.ID, d.State, d.Account)
			}
		}
		res, err := tx.exec(`DELETE FROM posts WHERE id = ? AND version = ?`, p.ID, p.Version)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return tx.stale(p)
		}
		text := p.Text
		if len([]rune(text)) > 80 {
			text = string([]rune(text)[:80]) + "…"
		}
		return tx.audit(by, "post.delete", postObject(p.ID), fmt.Sprintf("%s post of campaign %s due %s: %q", p.State, p.Campaign, p.DueAt.Format(time.RFC3339), text))
	})
}

// CountPosts counts posts per state; every state is present, zero or not. The counts are
// kept by triggers (migration 0002), so this does not read the queue.
func (db *DB) CountPosts(ctx context.Context) (map[queue.PostState]int, error) {
	counts := make(map[queue.PostState]int, len(queue.PostStates))
	for _, s := range queue.PostStates {
		counts[s] = 0
	}
	err := db.view(ctx, func(tx *tx) error {
		rows, err := tx.query(`SELECT state, n FROM post_counts`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var (
				s string
				n int
			)
			if err := rows.Scan(&s, &n); err != nil {
				return err
			}
			counts[queue.PostState(s)] = n
		}
		return rows.Err()
	})
	return counts, err
}

// qScanOpen walks posts in id order. The unary + keeps SQLite from using the state index,
// which would sort every open post for each batch; the primary key range is one pass.
const qScanOpen = `SELECT ` + postColumns + postFrom + ` WHERE p.id > ? AND +p.state IN ('pending', 'approved', 'held')
	ORDER BY p.id LIMIT ?`

// scanBatch is how many open posts ScanOpenPosts holds in memory at once.
const scanBatch = 500

// ScanOpenPosts calls fn for every pending, approved and held post, in id order, reading
// a batch at a time; fn runs outside any transaction, so it may write through the store.
func (db *DB) ScanOpenPosts(ctx context.Context, fn func(*queue.Campaign, *queue.Post) error) error {
	var after int64
	for {
		// Campaigns are re-read per batch so that fn sees pauses made while it runs.
		campaigns := map[int64]*queue.Campaign{}
		var batch []*queue.Post
		err := db.view(ctx, func(tx *tx) error {
			var err error
			batch, err = tx.posts(qScanOpen, after, scanBatch)
			if err != nil {
				return err
			}
			var ids []any
			for _, p := range batch {
				if campaigns[p.CampaignID] == nil {
					campaigns[p.CampaignID] = &queue.Campaign{}
					ids = append(ids, p.CampaignID)
				}
			}
			if len(ids) == 0 {
				return nil
			}
			cs, err := tx.campaigns(`SELECT `+campaignColumns+` FROM campaigns c WHERE c.id IN (`+placeholders(len(ids))+`)`, ids...)
			for _, c := range cs {
				campaigns[c.ID] = c
			}
			return err
		})
		if err != nil {
			return err
		}
		for _, p := range batch {
			if err := ctx.Err(); err != nil {
				return err
			}
			if err := fn(campaigns[p.CampaignID], p); err != nil {
				return err
			}
		}
		if len(batch) < scanBatch {
			return nil
		}
		after = batch[len(batch)-1].ID
	}
}
