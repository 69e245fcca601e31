-- 0002: what keeps the publisher's loop and the status page fast with 100,000 queued posts.

-- Posts that may have deliveries to claim, soonest first: ClaimDue and NextWake read only
-- these, however many posts wait for approval. (IF NOT EXISTS: early development builds
-- created it in 0001.)
CREATE INDEX IF NOT EXISTS posts_claimable ON posts (due_at, id) WHERE state IN ('approved', 'publishing');

-- Posts per state, kept by triggers so that every write path counts, for CountPosts
-- (status, metrics) without reading the whole queue.
CREATE TABLE post_counts (
    state TEXT    PRIMARY KEY,
    n     INTEGER NOT NULL CHECK (n >= 0)
) WITHOUT ROWID;
INSERT INTO post_counts (state, n) SELECT state, COUNT(*) FROM posts GROUP BY state;

CREATE TRIGGER posts_count_insert AFTER INSERT ON posts
BEGIN
    INSERT INTO post_counts (state, n) VALUES (NEW.state, 1)
        ON CONFLICT (state) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER posts_count_delete AFTER DELETE ON posts
BEGIN
    UPDATE post_counts SET n = n - 1 WHERE state = OLD.state;
END;
CREATE TRIGGER posts_count_state AFTER UPDATE OF state ON posts WHEN OLD.state <> NEW.state
BEGIN
    UPDATE post_counts SET n = n - 1 WHERE state = OLD.state;
    INSERT INTO post_counts (state, n) VALUES (NEW.state, 1)
        ON CONFLICT (state) DO UPDATE SET n = n + 1;
END;
