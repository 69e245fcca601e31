package linkedin

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/tact-hq/tact/plugins/internal/journal"
	"github.com/tact-hq/tact/plugins/sdk"
)

// shape is how a tact post becomes a LinkedIn post: the text a reader sees (before the
// little text format) and the kind of content, as the journal records it.
type shape struct {
	text string
	kind string // "text", "image", "images:N" or "article:SOURCE"
}

func shapeOf(p sdk.Post) shape {
	switch n := len(p.Media); {
	case p.Link != "" && n <= 1:
		return shape{text: p.Text, kind: "article:" + p.Link}
	case n == 1:
		return shape{text: p.Text, kind: "image"}
	case n > 1:
		// A post shows one kind of content: with several images the link goes in the text.
		return shape{text: sdk.TextWithLink(p), kind: fmt.Sprintf("images:%d", n)}
	default:
		return shape{text: p.Text, kind: "text"}
	}
}

// Validate lists what LinkedIn would refuse: a commentary over 3,000 characters (the
// link included when it goes in the text), more than 20 images, types other than JPEG,
// PNG and GIF, images of 36,152,320 pixels or more, alt texts over 4,086 characters.
func (n *Network) Validate(ctx context.Context, p sdk.Post) ([]sdk.Problem, error) {
	var problems []sdk.Problem
	s := shapeOf(p)
	if strings.TrimSpace(p.Text) == "" && p.Link == "" && len(p.Media) == 0 {
		problems = append(problems, sdk.Problem{Field: "text", Message: "the post is empty: write a text, add a link or attach an image"})
	}
	if l := sdk.Count(sdk.CountRunes, s.text); l > maxCommentary {
		msg := fmt.Sprintf("is %d characters; LinkedIn allows %d: shorten it by %d", l, maxCommentary, l-maxCommentary)
		if s.text != p.Text {
			msg += " (the link counts: a post with several images shows it in the text)"
		}
		problems = append(problems, sdk.Problem{Field: "text", Message: msg})
	}
	if p.Link != "" {
		if u, err := url.Parse(p.Link); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			problems = append(problems, sdk.Problem{Field: "link", Message: fmt.Sprintf("%q is not an http(s) address: LinkedIn links to web pages only", p.Link)})
		}
	}
	if len(p.Media) > maxImages {
		problems = append(problems, sdk.Problem{Field: "media", Message: imageCountMessage(len(p.Media))})
	}
	for i, m := range p.Media {
		field := fmt.Sprintf("media[%d]", i)
		if t := sdk.MediaType(m); !slices.Contains(imageTypes, t) {
			problems = append(problems, sdk.Problem{Field: field, Message: fmt.Sprintf("is %s; tact posts JPEG, PNG and GIF images to LinkedIn, not videos or other files", t)})
		}
		if px := int64(m.Width) * int64(m.Height); px >= maxPixels {
			problems = append(problems, sdk.Problem{Field: field, Message: fmt.Sprintf("is %d×%d pixels (%.1f megapixels); LinkedIn takes images of fewer than 36,152,320 pixels (about 6000×6000): scale it down", m.Width, m.Height, float64(px)/1e6)})
		}
		if l := utf8.RuneCountInString(m.Alt); l > maxAltText {
			problems = append(problems, sdk.Problem{Field: field, Message: fmt.Sprintf("its description (alt text) is %d characters; LinkedIn allows %d: shorten it by %d", l, maxAltText, l-maxAltText)})
		}
	}
	return problems, nil
}

// Publish uploads p's images and creates the post, at most once per idempotency key (see
// the package comment).
func (n *Network) Publish(ctx context.Context, p sdk.Post, idempotencyKey string) (sdk.Receipt, error) {
	if idempotencyKey == "" {
		return sdk.Receipt{}, sdk.Errorf(sdk.Permanent, "linkedin: Publish called without an idempotency key")
	}
	problems, err := n.Validate(ctx, p)
	if err != nil {
		return sdk.Receipt{}, err
	}
	if len(problems) > 0 {
		return sdk.Receipt{}, sdk.Errorf(sdk.Permanent, "linkedin: LinkedIn would refuse this post: %s", sdk.JoinProblems(problems))
	}
	c, err := n.usable("Publish")
	if err != nil {
		return sdk.Receipt{}, err
	}

	n.publishMu.Lock()
	defer n.publishMu.Unlock()
	j := n.journal
	var resent *attempt // the earlier attempt of this key, sent without an answer
	if prev := j.Get(idempotencyKey); prev != nil {
		if prev.Receipt != nil {
			return *prev.Receipt, nil
		}
		// Sent, never answered: the post may exist. The daemon normally calls Lookup
		// first; this covers a direct retry.
		r, found, err := n.scan(ctx, c, j, prev)
		if err != nil || found {
			return r, err
		}
		resent = prev
	}

	s := shapeOf(p)
	images := make([]string, 0, len(p.Media))
	for i, m := range p.Media {
		urn, err := n.upload(ctx, c, m)
		if err != nil {
			return sdk.Receipt{}, fmt.Errorf("media[%d]: %w", i, err)
		}
		images = append(images, urn)
	}
	a := attempt{Attempt: journal.Attempt{Key: idempotencyKey, Sending: n.now().UTC()}, Author: c.author, Hash: textHash(s.text), Content: s.kind}
	if err := j.Append(a); err != nil {
		return sdk.Receipt{}, sdk.Errorf(sdk.Retryable, "%v: nothing was sent", err)
	}
	ans, f, err := n.rest(ctx, c, http.MethodPost, "/rest/posts", postBody(c, p, s, images), "", nil)
	if dup := f.duplicateOf(); dup != "" {
		return n.duplicate(j, idempotencyKey, dup, resent)
	}
	if err != nil {
		return sdk.Receipt{}, err
	}
	id := ans.header.Get("X-Restli-Id")
	if !postURN.MatchString(id) {
		// The post was made: a retry finds it through the journal's in-flight attempt.
		return sdk.Receipt{}, sdk.Errorf(sdk.Retryable, "linkedin: POST /rest/posts answered %d without a post URN in x-restli-id (%q)", ans.status, id)
	}
	r := receipt(id, n.now())
	n.remember(j, idempotencyKey, r)
	return r, nil
}

// postBody is the Posts API's create request.
func postBody(c *config, p sdk.Post, s shape, images []string) map[string]any {
	body := map[string]any{
		"author":     c.author,
		"commentary": Commentary(s.text),
		"visibility": c.visibility,
		"distribution": map[string]any{
			"feedDistribution":               "MAIN_FEED",
			"targetEntities":                 []any{},
			"thirdPartyDistributionChannels": []any{},
		},
		"lifecycleState":            "PUBLISHED",
		"isReshareDisabledByAuthor": false,
	}
	image := func(i int) map[string]string {
		m := map[string]string{"id": images[i]}
		if alt := p.Media[i].Alt; alt != "" {
			m["altText"] = alt
		}
		return m
	}
	switch {
	case strings.HasPrefix(s.kind, "article:"):
		article := map[string]string{"source": p.Link, "title": articleTitle(p.Link)}
		if len(images) == 1 {
			article["thumbnail"] = images[0]
			if alt := p.Media[0].Alt; alt != "" {
				article["thumbnailAltText"] = alt
			}
		}
		body["content"] = map[string]any{"article": article}
	case s.kind == "image":
		body["content"] = map[string]any{"media": image(0)}
	case len(images) > 1:
		list := make([]map[string]string, len(images))
		for i := range images {
			list[i] = image(i)
		}
		body["content"] = map[string]any{"multiImage": map[string]any{"images": list}}
	}
	return body
}

// articleTitle is the title of a link's card. LinkedIn does not read the page for one
// through the API, and tact never fetches what a person links to: the address reads best,
// without its scheme and "www.".
func articleTitle(link string) string {
	u, err := url.Parse(link)
	if err != nil || u.Host == "" {
		return link
	}
	title := strings.TrimPrefix(u.Host, "www.") + strings.TrimRight(u.EscapedPath(), "/")
	if r := []rune(title); len(r) > 200 {
		title = string(r[:199]) + "…"
	}
	return title
}

// duplicate answers LinkedIn's refusal of a post identical to its recent post dup. When
// this key sent the same post before without an answer (resent), dup is that post.
func (n *Network) duplicate(j *journal.Journal[attempt], key, dup string, resent *attempt) (sdk.Receipt, error) {
	switch owner := j.Owner(dup); {
	case owner != "" && owner != key:
		return sdk.Receipt{}, sdk.Errorf(sdk.Permanent, "linkedin: LinkedIn refuses this post as a copy of %s, which tact published for another post (key %q): LinkedIn does not take the same post twice in a short time; change the text", dup, owner)
	case resent != nil:
		r := receipt(dup, resent.Sending)
		n.log.Info("linkedin: an earlier unanswered publish of this key had gone through: LinkedIn named it as the duplicate", "key", key, "post", dup)
		n.remember(j, key, r)
		return r, nil
	default:
		return sdk.Receipt{}, sdk.Errorf(sdk.Permanent, "linkedin: LinkedIn refuses this post as a copy of its recent post %s (https://www.linkedin.com/feed/update/%s/), which tact did not send: LinkedIn does not take the same post twice in a short time; change the text, or delete that post first", dup, dup)
	}
}

// remember records the receipt of key. It is kept in memory even if the journal cannot be
// written, and the failure is logged: the post is already published.
func (n *Network) remember(j *journal.Journal[attempt], key string, r sdk.Receipt) {
	a := *j.Get(key)
	a.Receipt = &r
	if err := j.Append(a); err != nil {
		n.log.Error("linkedin: post published but its receipt could not be journaled", "key", key, "post", r.RemoteID, "err", err)
		j.Keep(a)
	}
}

func receipt(urn string, at time.Time) sdk.Receipt {
	return sdk.Receipt{RemoteID: urn, URL: "https://www.linkedin.com/feed/update/" + urn + "/", PublishedAt: at.UTC()}
}

// textHash identifies a text however LinkedIn hands it back: Unicode normalised and
// whitespace dropped (LinkedIn may turn \r\n into \n or trim the ends).
func textHash(text string) string {
	var b strings.Builder
	for _, r := range norm.NFC.String(text) {
		if !unicode.IsSpace(r) {
			b.WriteRune(r)
		}
	}
	sum := sha256.Sum256([]byte(b.String()))
	return hex.EncodeToString(sum[:])
}

// Lookup finds the post published with idempotencyKey (see the package comment).
func (n *Network) Lookup(ctx context.Context, idempotencyKey string) (sdk.Receipt, bool, error) {
	if !n.cfg().configured {
		return sdk.Receipt{}, false, errors.New("linkedin: Lookup called before Configure")
	}
	n.publishMu.Lock()
	defer n.publishMu.Unlock()
	j := n.journal
	a := j.Get(idempotencyKey)
	switch {
	case a == nil && j.InMemory():
		return sdk.Receipt{}, false, sdk.Errorf(sdk.Retryable,
			"linkedin: cannot tell whether key %q was published: this process did not send it, and without state_dir (or while the author is unknown) nothing remembers what earlier processes sent; look at the account's recent posts and decide", idempotencyKey)
	case a == nil:
		return sdk.Receipt{}, false, nil // every send is journaled first
	case a.Receipt != nil:
		return *a.Receipt, true, nil
	}
	c, err := n.usable("Lookup")
	if err != nil {
		return sdk.Receipt{}, false, err
	}
	return n.scan(ctx, c, j, a)
}

// postEntity is the part of a Posts API post the plugin reads.
type postEntity struct {
	ID          string `json:"id"`
	Commentary  string `json:"commentary"`
	CreatedAt   int64  `json:"createdAt"`
	PublishedAt int64  `json:"publishedAt"`
	Content     struct {
		Media      *struct{} `json:"media"`
		MultiImage *struct {
			Images []struct{} `json:"images"`
		} `json:"multiImage"`
		Article *struct {
			Source string `json:"source"`
		} `json:"article"`
	} `json:"content"`
}

func (e *postEntity) kind() string {
	switch c := e.Content; {
	case c.Article != nil:
		return "article:" + c.Article.Source
	case c.MultiImage != nil:
		return fmt.Sprintf("images:%d", len(c.MultiImage.Images))
	case c.Media != nil:
		return "image"
	}
	return "text"
}

// scan searches the author's posts for the one a sent but never saw answered. It says
// "not published" only when nothing the author posted since could be it.
func (n *Network) scan(ctx context.Context, c *config, j *journal.Journal[attempt], a *attempt) (sdk.Receipt, bool, error) {
	since := a.Sending.Add(-clockSkew)
	cannotTell := func(why string) error {
		return sdk.Errorf(sdk.Retryable, "linkedin: cannot tell whether key %q was published: %s; look at the posts of %s since %s and decide",
			a.Key, why, a.Author, a.Sending.Format(time.RFC3339))
	}
	strangers := 0
	for page := 0; page < scanPages; page++ {
		q := url.Values{"q": {"author"}, "author": {a.Author}, "sortBy": {"CREATED"},
			"count": {fmt.Sprint(scanPageSize)}, "start": {fmt.Sprint(page * scanPageSize)}}
		var out struct {
			Elements []postEntity `json:"elements"`
		}
		_, f, err := n.rest(ctx, c, http.MethodGet, "/rest/posts?"+q.Encode(), nil, "FINDER", &out)
		if f != nil && f.status == http.StatusForbidden {
			return sdk.Receipt{}, false, cannotTell("the token may not read the author's posts (that takes r_organization_social for a page, or r_member_social for a member, which LinkedIn grants only to apps it approved)")
		}
		if err != nil {
			return sdk.Receipt{}, false, fmt.Errorf("linkedin: cannot tell whether key %q was published: %w", a.Key, err)
		}
		done := false
		for i := range out.Elements {
			e := &out.Elements[i]
			if created := millis(e.CreatedAt); !created.IsZero() && created.Before(since) {
				done = true // newest first: everything newer has been read
				break
			}
			if j.Owner(e.ID) != "" {
				continue
			}
			if e.kind() == a.Content && textHash(PlainText(e.Commentary)) == a.Hash {
				at := millis(e.PublishedAt)
				if at.IsZero() {
					at = millis(e.CreatedAt)
				}
				r := receipt(e.ID, at)
				n.remember(j, a.Key, r)
				return r, true, nil
			}
			strangers++
		}
		if done || len(out.Elements) < scanPageSize {
			if strangers > 0 {
				return sdk.Receipt{}, false, cannotTell(fmt.Sprintf("%d post(s) published since then match no text tact sent", strangers))
			}
			return sdk.Receipt{}, false, nil
		}
	}
	return sdk.Receipt{}, false, cannotTell(fmt.Sprintf("the author published more than %d posts since then and none matched", scanPages*scanPageSize))
}

// Delete removes the post (DELETE /rest/posts/{urn}); one already gone is not an error.
func (n *Network) Delete(ctx context.Context, remoteID string) error {
	c, err := n.usable("Delete")
	if err != nil {
		return err
	}
	if !postURN.MatchString(remoteID) || postURN.FindString(remoteID) != remoteID {
		return sdk.Errorf(sdk.Permanent, "linkedin: %q is not a LinkedIn post URN (urn:li:share:… or urn:li:ugcPost:…)", remoteID)
	}
	_, f, err := n.rest(ctx, c, http.MethodDelete, "/rest/posts/"+url.QueryEscape(remoteID), nil, "DELETE", nil)
	if f != nil && f.status == http.StatusNotFound {
		return nil
	}
	return err
}
