package wordpress

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"html"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tact-hq/tact/plugins/sdk"
)

// Slug is the slug of the post published with idempotencyKey: what Lookup asks WordPress
// for. WordPress keeps a slug it is given as long as no other post has it; this one is the
// key's alone.
func Slug(idempotencyKey string) string {
	sum := sha256.Sum256([]byte(idempotencyKey))
	return "tact-" + hex.EncodeToString(sum[:12])
}

// article is a tact post as a WordPress post.
type article struct {
	title   string
	content string // HTML, without the images after the featured one
}

// articleOf splits p's text into the title (its first line, with firstLine) and the
// content: paragraphs at blank lines, line breaks kept, everything HTML-escaped, the link
// a paragraph of its own unless the text has it.
func articleOf(p sdk.Post, firstLine bool) article {
	text := strings.ReplaceAll(p.Text, "\r\n", "\n")
	var a article
	if firstLine {
		first, rest, _ := strings.Cut(strings.TrimLeft(text, " \t\n"), "\n")
		a.title, text = strings.TrimSpace(first), rest
	}
	var paras []string
	for _, para := range strings.Split(strings.TrimSpace(text), "\n\n") {
		if para = strings.TrimSpace(para); para == "" {
			continue
		}
		lines := strings.Split(para, "\n")
		for i, l := range lines {
			lines[i] = html.EscapeString(strings.TrimSpace(l))
		}
		paras = append(paras, "<p>"+strings.Join(lines, "<br />\n")+"</p>")
	}
	if p.Link != "" && !strings.Contains(p.Text, p.Link) {
		href := html.EscapeString(p.Link)
		paras = append(paras, `<p><a href="`+href+`">`+href+`</a></p>`)
	}
	a.content = strings.Join(paras, "\n\n")
	return a
}

// Validate lists what the blog would refuse, or what would make a poor post: an empty
// post (or, with title = first_line, a post without a text to take the title from), a link that is not a web
// address, more than 10 images, types the media library does not take by default, files
// over max_upload_mb, alt texts over 1,000 characters, images from a user who may not
// upload.
func (n *Network) Validate(ctx context.Context, p sdk.Post) ([]sdk.Problem, error) {
	c := n.cfg()
	firstLine := !c.configured || c.firstLine
	maxUpload := c.maxUpload
	if maxUpload == 0 {
		maxUpload = defaultUploadMB << 20
	}
	var problems []sdk.Problem
	a := articleOf(p, firstLine)
	switch {
	case a.title == "" && a.content == "" && len(p.Media) == 0:
		problems = append(problems, sdk.Problem{Field: "text", Message: "the post is empty: write a text (its first line is the blog post's title)"})
	case firstLine && a.title == "":
		problems = append(problems, sdk.Problem{Field: "text", Message: "the first line becomes the blog post's title, and there is no text: write one, starting with the title"})
	}
	if p.Link != "" {
		if u, err := url.Parse(p.Link); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			problems = append(problems, sdk.Problem{Field: "link", Message: fmt.Sprintf("%q is not an http(s) address: the blog links to web pages only", p.Link)})
		}
	}
	if len(p.Media) > maxImages {
		problems = append(problems, sdk.Problem{Field: "media", Message: fmt.Sprintf("%d images; tact puts at most %d in a blog post (the first as its featured image): remove %d", len(p.Media), maxImages, len(p.Media)-maxImages)})
	}
	if len(p.Media) > 0 && c.configured && !c.canUpload {
		problems = append(problems, sdk.Problem{Field: "media", Message: fmt.Sprintf("user %s may not upload files to %s (a Contributor): remove the images, or give the user the Author role", c.displayedUser, c.site)})
	}
	for i, m := range p.Media {
		field := fmt.Sprintf("media[%d]", i)
		if t := sdk.MediaType(m); !slices.Contains(imageTypes, t) {
			problems = append(problems, sdk.Problem{Field: field, Message: fmt.Sprintf("is %s; tact posts JPEG, PNG, GIF and WebP images to WordPress", t)})
		}
		if pr := sdk.MediaSizeProblem(i, m, maxUpload, "this blog (max_upload_mb)"); pr != nil {
			problems = append(problems, *pr)
		}
		if l := utf8.RuneCountInString(m.Alt); l > maxAltText {
			problems = append(problems, sdk.Problem{Field: field, Message: fmt.Sprintf("its description (alt text) is %d characters; tact sends at most %d: shorten it by %d", l, maxAltText, l-maxAltText)})
		}
	}
	return problems, nil
}

// wpPost is the part of a WordPress post the plugin reads.
type wpPost struct {
	ID      int    `json:"id"`
	Link    string `json:"link"`
	Slug    string `json:"slug"`
	Status  string `json:"status"`
	DateGMT string `json:"date_gmt"`
}

func (w wpPost) receipt() sdk.Receipt {
	// date_gmt is UTC without a zone; a draft's may be null, then empty.
	at, err := time.Parse("2006-01-02T15:04:05", w.DateGMT)
	if err != nil {
		at = time.Time{}
	}
	return sdk.Receipt{RemoteID: strconv.Itoa(w.ID), URL: w.Link, PublishedAt: at.UTC()}
}

// Publish creates the post, at most once per idempotency key: a post with the key's slug
// already on the blog is this key's, and is returned instead.
func (n *Network) Publish(ctx context.Context, p sdk.Post, idempotencyKey string) (sdk.Receipt, error) {
	if idempotencyKey == "" {
		return sdk.Receipt{}, sdk.Errorf(sdk.Permanent, "wordpress: Publish called without an idempotency key")
	}
	c, err := n.usable("Publish")
	if err != nil {
		return sdk.Receipt{}, err
	}
	problems, err := n.Validate(ctx, p)
	if err != nil {
		return sdk.Receipt{}, err
	}
	if len(problems) > 0 {
		return sdk.Receipt{}, sdk.Errorf(sdk.Permanent, "wordpress: the blog would refuse this post: %s", sdk.JoinProblems(problems))
	}

	n.publishMu.Lock()
	defer n.publishMu.Unlock()
	slug := Slug(idempotencyKey)
	if r, found, err := n.bySlug(ctx, c, slug); err != nil || found {
		return r, err
	}
	if c.createTerms {
		if err := n.resolveTerms(ctx, c, true); err != nil {
			return sdk.Receipt{}, err
		}
	}
	a := articleOf(p, c.firstLine)
	body := map[string]any{
		"title":   a.title,
		"content": a.content,
		"status":  c.status,
		"slug":    slug,
	}
	if c.status == "future" {
		body["date_gmt"] = n.now().UTC().Add(c.delay).Format("2006-01-02T15:04:05")
	}
	if ids := n.termIDs("categories", c.categories); len(ids) > 0 {
		body["categories"] = ids
	}
	if ids := n.termIDs("tags", c.tags); len(ids) > 0 {
		body["tags"] = ids
	}
	var figures []string
	for i, m := range p.Media {
		up, err := n.upload(ctx, c, m)
		if err != nil {
			return sdk.Receipt{}, fmt.Errorf("media[%d]: %w", i, err)
		}
		if i == 0 {
			body["featured_media"] = up.ID
			continue
		}
		figures = append(figures, fmt.Sprintf(`<figure class="wp-block-image"><img src="%s" alt="%s" class="wp-image-%d" /></figure>`,
			html.EscapeString(up.SourceURL), html.EscapeString(m.Alt), up.ID))
	}
	if len(figures) > 0 {
		body["content"] = strings.TrimSpace(a.content + "\n\n" + strings.Join(figures, "\n\n"))
	}
	var made wpPost
	if err := n.call(ctx, c, http.MethodPost, "/wp/v2/posts", nil, body, &made); err != nil {
		return sdk.Receipt{}, err
	}
	if made.ID == 0 {
		// Made or not, the slug tells: a retry looks it up first.
		return sdk.Receipt{}, sdk.Errorf(sdk.Retryable, "wordpress: POST /wp/v2/posts on %s answered without a post id", c.site)
	}
	if made.Slug != "" && made.Slug != slug {
		n.log.Warn("wordpress: the blog changed the post's slug: a lost answer could not be found by it", "want", slug, "got", made.Slug, "post", made.ID)
	}
	return made.receipt(), nil
}

func (n *Network) termIDs(route string, names []string) []int {
	var ids []int
	for _, name := range names {
		if id, ok := n.termID(route, name); ok {
			ids = append(ids, id)
		}
	}
	return ids
}

// uploaded is the part of a media item the plugin reads.
type uploaded struct {
	ID        int    `json:"id"`
	SourceURL string `json:"source_url"`
}

// upload adds m to the media library: its bytes as the request body, the file name in
// Content-Disposition, the alt text as a parameter.
func (n *Network) upload(ctx context.Context, c *config, m sdk.Media) (uploaded, error) {
	data, err := sdk.MediaData(m, c.maxUpload)
	if err != nil {
		return uploaded{}, err
	}
	q := url.Values{}
	if m.Alt != "" {
		q.Set("alt_text", m.Alt)
	}
	h := http.Header{"Content-Disposition": {mime.FormatMediaType("attachment", map[string]string{"filename": sdk.FileName(m)})}}
	var up uploaded
	if err := n.send(ctx, c, http.MethodPost, "/wp/v2/media", q, data, sdk.MediaType(m), h, &up); err != nil {
		return uploaded{}, err
	}
	if up.ID == 0 {
		return uploaded{}, sdk.Errorf(sdk.Retryable, "wordpress: POST /wp/v2/media on %s answered without a media id", c.site)
	}
	return up, nil
}

// bySlug looks for the post with slug in every status but the trash.
func (n *Network) bySlug(ctx context.Context, c *config, slug string) (sdk.Receipt, bool, error) {
	var found []wpPost
	q := url.Values{"slug": {slug}, "status": {"any"}, "context": {"edit"}, "_fields": {"id,link,slug,status,date_gmt"}}
	if err := n.call(ctx, c, http.MethodGet, "/wp/v2/posts", q, nil, &found); err != nil {
		return sdk.Receipt{}, false, fmt.Errorf("wordpress: cannot tell whether post %s is on %s: %w", slug, c.site, err)
	}
	for _, p := range found {
		if p.Slug == slug {
			return p.receipt(), true, nil
		}
	}
	return sdk.Receipt{}, false, nil
}

// Lookup finds the post published with idempotencyKey by its slug. Not found means the
// blog has no such post outside the trash: it was never created, or a person deleted it.
func (n *Network) Lookup(ctx context.Context, idempotencyKey string) (sdk.Receipt, bool, error) {
	c, err := n.usable("Lookup")
	if err != nil {
		return sdk.Receipt{}, false, err
	}
	return n.bySlug(ctx, c, Slug(idempotencyKey))
}

// Delete moves the post to the trash (DELETE /wp/v2/posts/{id}), or deletes it for good
// with delete = "force". One already in the trash or gone is not an error.
func (n *Network) Delete(ctx context.Context, remoteID string) error {
	c, err := n.usable("Delete")
	if err != nil {
		return err
	}
	if id, err := strconv.Atoi(remoteID); err != nil || id <= 0 {
		return sdk.Errorf(sdk.Permanent, "wordpress: %q is not a WordPress post id (a number)", remoteID)
	}
	q := url.Values{}
	if c.force {
		q.Set("force", "true")
	}
	err = n.call(ctx, c, http.MethodDelete, "/wp/v2/posts/"+remoteID, q, nil, nil)
	if f := failureOf(err); f != nil && (f.Code == "rest_already_trashed" || f.Code == "rest_post_invalid_id") {
		return nil
	}
	return err
}
