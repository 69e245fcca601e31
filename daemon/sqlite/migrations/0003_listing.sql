-- 0003: the approval queue's page without a page read per post.
--
-- Every commit empties the page cache of SQLite's read connections (WAL), so a page of the
-- queue built after one reads its rows from the file again: with the rows scattered, one
-- page per post and more per post's deliveries, about 380 reads for a page of 100 posts.
-- These two indexes hold every column the listing shows, in the listing's order, so the
-- page reads a few leaves of each instead (about 210 reads: the deliveries of 100 posts
-- still sit in about 100 places). They cost about a third more file (100,000 posts: 17 MB
-- and 15 MB) and one more index entry to rewrite per post or delivery change.

-- Posts by state in due order with all the columns of queue.Post (see postColumns).
CREATE INDEX posts_listing ON posts (state, due_at, id, campaign_id, text, link, media, accounts,
    reason, problems, flags, tick, approved_by, approved_at, version, created_at, updated_at);

-- A post's deliveries in order with all the columns of queue.Delivery (see deliveryColumns).
CREATE INDEX deliveries_post ON deliveries (post_id, id, account, state, idempotency_key, attempts,
    next_attempt_at, remote_id, url, last_error, started_at, finished_at);
