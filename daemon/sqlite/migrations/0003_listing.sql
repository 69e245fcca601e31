-- 0003: the approval queue's page without two page reads per delivery.
--
-- Every commit empties the page cache of SQLite's read connections (WAL), so a page of the
-- queue built after one reads its rows from the file again. The deliveries of a page's 100
-- posts were found through the (post_id, account) index and then read row by row from the
-- table: about 220 page reads, the largest part of building the page. This index holds every
-- column the listing shows, in the listing's order, so the deliveries come from it alone
-- (about 160 reads: the deliveries of 100 posts still sit in about 100 places). It costs
-- about 15 MB with 100,000 posts and one more index entry to rewrite per delivery change.
--
-- (A covering index of the posts themselves was tried and left out: it saved less, and made
-- the planner walk it for queries that have better indexes, such as a campaign's queue.)
CREATE INDEX deliveries_post ON deliveries (post_id, id, account, state, idempotency_key, attempts,
    next_attempt_at, remote_id, url, last_error, started_at, finished_at);
