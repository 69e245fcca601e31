package watch

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/mmcdole/gofeed"
	"golang.org/x/net/html"

	"github.com/tact-hq/tact/config"
	"github.com/tact-hq/tact/config/redact"
	"github.com/tact-hq/tact/daemon/queue"
)

// Feed defaults, for [[feed]] entries that leave them out and for tests that build Feed
// values by hand.
const (
	DefaultFeedEvery   = 2 * time.Minute
	DefaultFeedTimeout = 20 * time.Second
	// DefaultMaxFeedBytes bounds a feed document. A feed larger than this is refused with an
	// error rather than read into memory: news feeds are kilobytes, not megabytes.
	DefaultMaxFeedBytes = 10 << 20
	// DefaultMaxBackoff caps the delay between polls of a failing feed.
	DefaultMaxBackoff = 30 * time.Minute
	// maxSummary bounds the summary kept for an item: matching needs the gist, not the article.
	maxSummary = 2000
)

// FeedStatus is what the watcher knows about one feed, for status pages and metrics.
type FeedStatus struct {
	Name      string    `json:"name"`
	URL       string    `json:"url"` // without its secrets: docs/operations.md, "Secrets"
	LastPoll  time.Time `json:"last_poll,omitzero"`
	LastOK    time.Time `json:"last_ok,omitzero"`
	LastError string    `json:"last_error,omitempty"` // "" when the last poll succeeded
	ErrorAt   time.Time `json:"error_at,omitzero"`
	Failures  int       `json:"failures"` // consecutive failed polls
	Polls     int64     `json:"polls"`
	NotMod    int64     `json:"not_modified"` // polls answered 304 (or an unchanged file)
	Items     int64     `json:"items"`        // new items seen since start
	NextPoll  time.Time `json:"next_poll,omitzero"`
}

// feedSource polls one feed: it remembers the validators of the last good fetch so that the
// next fetch is conditional.
type feedSource struct {
	cfg      config.Feed
	client   *http.Client
	maxBytes int64

	etag, lastModified string    // HTTP validators of the last parsed document
	modTime            time.Time // file:// validator
	size               int64
}

// fetched is one poll's result: nil items and notModified when nothing changed.
type fetched struct {
	items       []*queue.ContextItem
	notModified bool
	commit      func() // makes this document the base of the next conditional request
}

// fetch reads the feed once, conditionally, within the feed's timeout.
func (f *feedSource) fetch(ctx context.Context, now time.Time) (fetched, error) {
	timeout := f.cfg.Timeout.Duration
	if timeout <= 0 {
		timeout = DefaultFeedTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	u, err := url.Parse(f.cfg.URL)
	if err != nil {
		return fetched{}, fmt.Errorf("feed url is not a URL: %v", f.redact(err))
	}
	var body []byte
	var commit func()
	switch u.Scheme {
	case "file":
		body, commit, err = f.readFile(u)
	case "http", "https":
		body, commit, err = f.get(ctx, u)
	default:
		return fetched{}, fmt.Errorf("feed url scheme %q is not supported: use http://, https:// or file://", u.Scheme)
	}
	if err != nil {
		if ctx.Err() == context.DeadlineExceeded {
			return fetched{}, fmt.Errorf("no complete answer within the feed timeout of %s (raise timeout in [[feed]] if the source is slow)", timeout)
		}
		return fetched{}, err
	}
	if body == nil {
		return fetched{notModified: true}, nil
	}
	feed, err := gofeed.NewParser().Parse(bytes.NewReader(body))
	if err != nil {
		return fetched{}, fmt.Errorf("not a readable RSS, Atom or JSON feed: %v", err)
	}
	// Only a document that parsed, and whose items were stored, becomes the base of the next
	// conditional request: a broken one must be fetched again in full once fixed.
	return fetched{items: f.items(feed, now), commit: commit}, nil
}

// get makes a conditional GET. A nil body with a nil error means 304 Not Modified.
func (f *feedSource) get(ctx context.Context, u *url.URL) ([]byte, func(), error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, nil, fmt.Errorf("cannot request the feed: %v", f.redact(err))
	}
	req.Header.Set("User-Agent", "tactd (context watcher)")
	req.Header.Set("Accept", "application/rss+xml, application/atom+xml, application/feed+json, application/json, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5")
	if f.etag != "" {
		req.Header.Set("If-None-Match", f.etag)
	}
	if f.lastModified != "" {
		req.Header.Set("If-Modified-Since", f.lastModified)
	}
	resp, err := f.client.Do(req)
	if err != nil {
		return nil, nil, fmt.Errorf("fetch failed: %w", f.redact(err))
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNotModified {
		return nil, nil, nil
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, nil, fmt.Errorf("server answered %s", resp.Status)
	}
	if resp.ContentLength > f.maxBytes {
		return nil, nil, f.tooLarge(resp.ContentLength)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, f.maxBytes+1))
	if err != nil {
		return nil, nil, fmt.Errorf("reading the feed failed: %w", f.redact(err))
	}
	if int64(len(body)) > f.maxBytes {
		return nil, nil, f.tooLarge(-1)
	}
	etag, lm := resp.Header.Get("ETag"), resp.Header.Get("Last-Modified")
	return body, func() { f.etag, f.lastModified = etag, lm }, nil
}

// readFile reads a file:// feed, using its modification time and size as the conditional
// check. A nil body with a nil error means unchanged.
func (f *feedSource) readFile(u *url.URL) ([]byte, func(), error) {
	if u.Host != "" && u.Host != "localhost" {
		return nil, nil, fmt.Errorf("file URL names host %q: write file:///absolute/path (three slashes)", u.Host)
	}
	path := u.Path
	if path == "" {
		path = u.Opaque
	}
	st, err := os.Stat(path)
	if err != nil {
		return nil, nil, fmt.Errorf("cannot read the feed file: %v", err)
	}
	if st.IsDir() {
		return nil, nil, fmt.Errorf("feed file %s is a directory", path)
	}
	if !f.modTime.IsZero() && st.ModTime().Equal(f.modTime) && st.Size() == f.size {
		return nil, nil, nil
	}
	if st.Size() > f.maxBytes {
		return nil, nil, f.tooLarge(st.Size())
	}
	file, err := os.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("cannot read the feed file: %v", err)
	}
	defer file.Close()
	body, err := io.ReadAll(io.LimitReader(file, f.maxBytes+1))
	if err != nil {
		return nil, nil, fmt.Errorf("cannot read the feed file: %v", err)
	}
	if int64(len(body)) > f.maxBytes {
		return nil, nil, f.tooLarge(-1)
	}
	mt, size := st.ModTime(), st.Size()
	return body, func() { f.modTime, f.size = mt, size }, nil
}

func (f *feedSource) tooLarge(n int64) error {
	limit := fmt.Sprintf("%d MiB", f.maxBytes>>20)
	if f.maxBytes < 1<<20 {
		limit = fmt.Sprintf("%d bytes", f.maxBytes)
	}
	if n > 0 {
		return fmt.Errorf("feed is %d bytes, over the %s limit: not loaded (point [[feed]] url at a smaller feed)", n, limit)
	}
	return fmt.Errorf("feed is larger than the %s limit: not loaded (point [[feed]] url at a smaller feed)", limit)
}

// items turns a parsed feed into context items. The language comes from the item (Dublin
// Core), else the feed, else the [[feed]] entry; it is reduced to its primary subtag
// ("en-GB" -> "en") because that is what stemmers are chosen by.
func (f *feedSource) items(feed *gofeed.Feed, now time.Time) []*queue.ContextItem {
	feedLang := feed.Language
	if feedLang == "" {
		feedLang = f.cfg.Language
	}
	out := make([]*queue.ContextItem, 0, len(feed.Items))
	for _, it := range feed.Items {
		if it == nil {
			continue
		}
		title := plainText(it.Title, 500)
		summary := plainText(it.Description, maxSummary)
		if summary == "" {
			summary = plainText(it.Content, maxSummary)
		}
		if title == "" {
			// A title-less item (allowed in RSS) is still news: its summary stands in.
			title = plainText(summary, 200)
		}
		if title == "" {
			continue
		}
		lang := feedLang
		if it.DublinCoreExt != nil && len(it.DublinCoreExt.Language) > 0 && it.DublinCoreExt.Language[0] != "" {
			lang = it.DublinCoreExt.Language[0]
		}
		ci := &queue.ContextItem{
			Source:   f.cfg.Name,
			GUID:     strings.TrimSpace(it.GUID),
			Title:    title,
			Summary:  summary,
			URL:      strings.TrimSpace(it.Link),
			Language: primaryLanguage(lang),
			SeenAt:   now,
		}
		if ci.GUID == "" {
			ci.GUID = ci.URL
		}
		switch {
		case it.PublishedParsed != nil:
			ci.PublishedAt = it.PublishedParsed.UTC()
		case it.UpdatedParsed != nil:
			ci.PublishedAt = it.UpdatedParsed.UTC()
		}
		out = append(out, ci)
	}
	return out
}

func primaryLanguage(tag string) string {
	tag = strings.ToLower(strings.TrimSpace(tag))
	if i := strings.IndexAny(tag, "-_"); i > 0 {
		tag = tag[:i]
	}
	return tag
}

// plainText strips HTML tags and entities, drops script and style contents, collapses
// white space and cuts the result to at most max bytes on a rune boundary.
func plainText(s string, max int) string {
	if s == "" {
		return ""
	}
	var b strings.Builder
	if strings.ContainsAny(s, "<&") {
		z := html.NewTokenizer(strings.NewReader(s))
		skip := 0
	loop:
		for {
			switch z.Next() {
			case html.ErrorToken:
				break loop
			case html.TextToken:
				if skip == 0 {
					b.Write(z.Text())
					b.WriteByte(' ')
				}
			case html.StartTagToken:
				name, _ := z.TagName()
				if n := string(name); n == "script" || n == "style" {
					skip++
				}
				b.WriteByte(' ')
			case html.EndTagToken:
				name, _ := z.TagName()
				if n := string(name); (n == "script" || n == "style") && skip > 0 {
					skip--
				}
				b.WriteByte(' ')
			case html.SelfClosingTagToken:
				b.WriteByte(' ')
			}
		}
		s = b.String()
	}
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > max {
		cut := max
		for cut > 0 && !utf8RuneStart(s[cut]) {
			cut--
		}
		s = strings.TrimSpace(s[:cut]) + "…"
	}
	return s
}

func utf8RuneStart(b byte) bool { return b&0xC0 != 0x80 }

// redact keeps the secrets of the feed's URL out of an error: feed URLs may carry a
// password or a key, and a URL read from env: or file: is a secret as a whole
// (docs/operations.md, "Secrets").
func (f *feedSource) redact(err error) error {
	if f.cfg.URLSecret {
		return redact.Error(err, f.cfg.URL)
	}
	return redact.Error(err)
}

// shownURL is a feed's URL as the status shows it.
func shownURL(f config.Feed) string {
	if f.URLSecret {
		return redact.SecretURL(f.URL)
	}
	return redact.URL(f.URL)
}
