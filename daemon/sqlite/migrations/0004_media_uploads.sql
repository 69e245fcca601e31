-- 0004: media are uploads.
--
-- Before this version a post's media could name a file path on the daemon's machine or a
-- URL, which the plugins read or fetched at publish time: a marketer could publish any
-- file the daemon could read, or make it fetch an internal address. Media are now the ids
-- of uploaded attachments (64 hex digits, docs/operations.md "Media"), and the publisher
-- refuses anything else. Posts still waiting to go out that name a path or a URL get a
-- problem saying so, so they cannot be approved until someone uploads the file and edits
-- the post; an approved one fails at its due time with the same reason rather than publish.
UPDATE posts
SET problems = json_insert(problems, '$[#]',
        'media: names a file path or URL, which tact no longer reads: upload the file (POST /api/v1/media, tactctl media upload FILE) and edit the post to use the id'),
    version = version + 1
WHERE state IN ('draft', 'pending', 'approved', 'held')
  AND EXISTS (SELECT 1 FROM json_each(posts.media)
              WHERE length(value) <> 64 OR value GLOB '*[^0-9a-f]*');
