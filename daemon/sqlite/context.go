package sqlite

import (
	"context"
	"strings"
	"time"

	"github.com/tact-hq/tact/daemon/queue"
)

// dedupKey is how a context item is recognised when a feed shows it again.
func dedupKey(it *queue.ContextItem) string {
	switch {
	case it.GUID != "":
		return "guid:" + it.Source + "\x00" + it.GUID
	case it.URL != "":
		return "url:" + it.Source + "\x00" + it.URL
	default:
		return "title:" + it.Source + "\x00" + it.Title
	}
}

// AddContext stores the items not seen before and returns those, with their IDs.
func (db *DB) AddContext(ctx context.Context, items []*queue.ContextItem) (added []*queue.ContextItem, err error) {
	for i, it := range items {
		if strings.TrimSpace(it.Source) == "" {
			return nil, queue.Errorf(queue.Invalid, "source", "context item %d needs a source (feed name, api, plugin:account)", i+1)
		}
		if strings.TrimSpace(it.Title) == "" {
			return nil, queue.Errorf(queue.Invalid, "title", "context item %d from %s needs a title", i+1, it.Source)
		}
	}
	err = db.update(ctx, func(tx *tx) error {
		added = nil
		for _, it := range items {
			seen := it.SeenAt
			if seen.IsZero() {
				seen = tx.now
			}
			res, err := tx.exec(`INSERT INTO context_items (source, guid, title, summary, url, language, published_at, seen_at, dedup_key)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (dedup_key) DO NOTHING`,
				it.Source, it.GUID, it.Title, it.Summary, it.URL, it.Language, unixNano(it.PublishedAt), unixNano(seen), dedupKey(it))
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n != 1 {
				continue
			}
			id, err := res.LastInsertId()
			if err != nil {
				return err
			}
			stored := *it
			stored.ID, stored.SeenAt = id, seen.UTC()
			stored.PublishedAt = fromNano(unixNano(it.PublishedAt))
			added = append(added, &stored)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, a := range added {
		for _, it := range items {
			if it.ID == 0 && dedupKey(it) == dedupKey(a) {
				it.ID, it.SeenAt = a.ID, a.SeenAt
			}
		}
	}
	return added, nil
}

// RecentContext returns items seen at or after since, newest first (limit default 100,
// at most 10,000).
func (db *DB) RecentContext(ctx context.Context, since time.Time, limit int) (items []*queue.ContextItem, err error) {
	switch {
	case limit <= 0:
		limit = 100
	case limit > 10000:
		limit = 10000
	}
	err = db.view(ctx, func(tx *tx) error {
		rows, err := tx.query(`SELECT id, source, guid, title, summary, url, language, published_at, seen_at FROM context_items
			WHERE seen_at >= ? ORDER BY seen_at DESC, id DESC LIMIT ?`, unixNano(since), limit)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var (
				it        queue.ContextItem
				pub, seen int64
			)
			if err := rows.Scan(&it.ID, &it.Source, &it.GUID, &it.Title, &it.Summary, &it.URL, &it.Language, &pub, &seen); err != nil {
				return err
			}
			it.PublishedAt, it.SeenAt = fromNano(pub), fromNano(seen)
			items = append(items, &it)
		}
		return rows.Err()
	})
	return items, err
}
