package facebook

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode"

	"golang.org/x/text/unicode/norm"

	"github.com/tact-hq/tact/plugins/internal/journal"
	"github.com/tact-hq/tact/plugins/sdk"
)

// shape is how a tact post becomes a Facebook post: its text (message or caption) and
// the kind of content, as the journal records it.
type shape struct {
	text string
	kind string // "text", "link:URL", "photo" or "photos:N"
}

func shapeOf(p sdk.Post) shape {
	switch n := len(p.Media); {
	case n == 0 && p.Link != "":
		return shape{text: p.Text, kind: "link:" + p.Link}
	case n == 1:
		// A photo post has no link field: the link goes in the text.
		return shape{text: sdk.TextWithLink(p), kind: "photo"}
	case n > 1:
		return shape{text: sdk.TextWithLink(p), kind: fmt.Sprintf("photos:%d", n)}
	default:
		return shape{text: p.Text, kind: "text"}
	}
}

// Validate lists what Facebook would refuse: a text over 63,206 characters (the link
// included when it goes in the text), more than 10 photos, types other than JPEG, PNG
// and GIF, photos over 10 MB, links that are not http(s).
func (n *Network) Validate(ctx context.Context, p sdk.Post) ([]sdk.Problem, error) {
	var problems []sdk.Problem
	s := shapeOf(p)
	if strings.TrimSpace(p.Text) == "" && p.Link == "" && len(p.Media) == 0 {
		problems = append(problems, sdk.Problem{Field: "text", Message: "the post is empty: write a text, add a link or attach a photo"})
	}
	if l := sdk.Count(sdk.CountRunes, s.text); l > maxMessage {
		msg := fmt.Sprintf("is %d characters; Facebook allows %d: shorten it by %d", l, maxMessage, l-maxMessage)
		if s.text != p.Text {
			msg += " (the link counts: a post with photos shows it in the text)"
		}
		problems = append(problems, sdk.Problem{Field: "text", Message: msg})
	}
	if p.Link != "" {
		if u, err := url.Parse(p.Link); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			problems = append(problems, sdk.Problem{Field: "link", Message: fmt.Sprintf("%q is not an http(s) address: Facebook links to web pages only", p.Link)})
		}
	}
	if len(p.Media) > maxPhotos {
		problems = append(problems, sdk.Problem{Field: "media", Message: fmt.Sprintf("%d photos; tact posts up to %d per Facebook post: remove %d", len(p.Media), maxPhotos, len(p.Media)-maxPhotos)})
	}
	for i, m := range p.Media {
		field := fmt.Sprintf("media[%d]", i)
		switch t := sdk.MediaType(m); {
		case t == "image/webp":
			problems = append(problems, sdk.Problem{Field: field, Message: "is a WebP image, which Facebook does not take: convert it to JPEG or PNG"})
		case !slices.Contains(photoTypes, t):
			problems = append(problems, sdk.Problem{Field: field, Message: fmt.Sprintf("is %s; tact posts JPEG, PNG and GIF photos to Facebook, not videos or other files", t)})
		}
		if pr := sdk.MediaSizeProblem(i, m, maxPhoto, "Facebook"); pr != nil {
			problems = append(problems, *pr)
		}
	}
	return problems, nil
}

// Publish uploads p's photos and creates the post, at most once per idempotency key (see
// the package comment).
func (n *Network) Publish(ctx context.Context, p sdk.Post, idempotencyKey string) (sdk.Receipt, error) {
	if idempotencyKey == "" {
		return sdk.Receipt{}, sdk.Errorf(sdk.Permanent, "facebook: Publish called without an idempotency key")
	}
	problems, err := n.Validate(ctx, p)
	if err != nil {
		return sdk.Receipt{}, err
	}
	if len(problems) > 0 {
		return sdk.Receipt{}, sdk.Errorf(sdk.Permanent, "facebook: Facebook would refuse this post: %s", sdk.JoinProblems(problems))
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
		if prev.InFlight() {
			// Sent, never answered: the post may exist. The daemon normally calls Lookup
			// first; this covers a direct retry.
			r, found, err := n.scan(ctx, c, j, prev)
			if err != nil || found {
				return r, err
			}
			resent = prev
		}
	}

	s := shapeOf(p)
	var photos []string
	if len(p.Media) > 1 {
		// Unpublished photos show nowhere; Facebook deletes those never attached to a post
		// after about a day, so a publish that stops here leaves nothing behind.
		for i, m := range p.Media {
			id, err := n.photo(ctx, c, m, "", false)
			if err != nil {
				return sdk.Receipt{}, fmt.Errorf("media[%d]: %w", i, err)
			}
			photos = append(photos, id)
		}
	}
	a := attempt{Attempt: journal.Attempt{Key: idempotencyKey, Sending: n.now().UTC()}, Page: c.pageID, Hash: textHash(s.text), Kind: s.kind}
	if resent != nil {
		// The search window must still cover the first send, which may show up late.
		a.Sending = resent.Sending
	}
	if err := j.Append(a); err != nil {
		return sdk.Receipt{}, sdk.Errorf(sdk.Retryable, "%v: nothing was sent", err)
	}
	id, f, err := n.create(ctx, c, p, s, photos)
	switch {
	case f.is(506, 0) && resent != nil:
		return n.duplicate(ctx, c, j, idempotencyKey, resent)
	case f != nil && sdk.KindOf(err) != sdk.Retryable:
		// Facebook answered, and its answer says this send made no post. After an earlier
		// unanswered send the attempt stays in flight: that one may yet show up.
		if resent == nil {
			n.refused(j, idempotencyKey)
		}
		return sdk.Receipt{}, err
	case err != nil:
		return sdk.Receipt{}, err
	case !postIDRE.MatchString(id):
		// The post was made: a retry finds it through the journal's in-flight attempt.
		return sdk.Receipt{}, sdk.Errorf(sdk.Retryable, "facebook: Facebook answered without a post id tact can use (%q)", id)
	}
	r := receipt(id, n.now())
	n.remember(j, idempotencyKey, r)
	return r, nil
}

// create makes the post: one photo through /photos, anything else through /feed.
func (n *Network) create(ctx context.Context, c *config, p sdk.Post, s shape, photos []string) (string, *failure, error) {
	if s.kind == "photo" {
		var out struct {
			PostID string `json:"post_id"`
		}
		f, err := n.photoPost(ctx, c, p.Media[0], s.text, &out)
		return out.PostID, f, err
	}
	form := url.Values{}
	if s.text != "" {
		form.Set("message", s.text)
	}
	if strings.HasPrefix(s.kind, "link:") {
		form.Set("link", p.Link)
	}
	for i, id := range photos {
		ref, _ := json.Marshal(map[string]string{"media_fbid": id})
		form.Set(fmt.Sprintf("attached_media[%d]", i), string(ref))
	}
	var out struct {
		ID string `json:"id"`
	}
	f, err := n.graph(ctx, c, c.token, http.MethodPost, "/"+c.pageID+"/feed", form, &out)
	return out.ID, f, err
}

// photo uploads m to the Page (POST /{page-id}/photos) and returns its id; published
// makes it a post of its own with caption.
func (n *Network) photo(ctx context.Context, c *config, m sdk.Media, caption string, published bool) (string, error) {
	var out struct {
		ID string `json:"id"`
	}
	_, err := n.sendPhoto(ctx, c, m, caption, published, &out)
	if err == nil && out.ID == "" {
		err = sdk.Errorf(sdk.Retryable, "facebook: POST /%s/photos answered without a photo id", c.pageID)
	}
	return out.ID, err
}

// photoPost publishes m as a post with caption; out receives Facebook's answer.
func (n *Network) photoPost(ctx context.Context, c *config, m sdk.Media, caption string, out any) (*failure, error) {
	return n.sendPhoto(ctx, c, m, caption, true, out)
}

func (n *Network) sendPhoto(ctx context.Context, c *config, m sdk.Media, caption string, published bool, out any) (*failure, error) {
	data, err := sdk.MediaData(m, maxPhoto)
	if err != nil {
		return nil, err
	}
	fields := url.Values{"published": {fmt.Sprint(published)}}
	if caption != "" {
		fields.Set("caption", caption)
	}
	if m.Alt != "" {
		fields.Set("alt_text_custom", m.Alt)
	}
	return n.upload(ctx, c, "/"+c.pageID+"/photos", fields, data, sdk.FileName(m), sdk.MediaType(m), out)
}

// duplicate answers Facebook's refusal of a post identical to the Page's last one, when
// this key sent the same post before without an answer (resent): the first send went out.
func (n *Network) duplicate(ctx context.Context, c *config, j *journal.Journal[attempt], key string, resent *attempt) (sdk.Receipt, error) {
	r, found, err := n.scan(ctx, c, j, resent)
	if err == nil && found {
		n.log.Info("facebook: an earlier unanswered publish of this key had gone through: Facebook refused the new one as its duplicate", "key", key, "post", r.RemoteID)
		return r, nil
	}
	return sdk.Receipt{}, sdk.Errorf(sdk.Retryable,
		"facebook: cannot tell which post key %q made: Facebook refuses this one as a duplicate of the Page's last post, so the send of %s went through, but tact cannot find it among the Page's posts; look at the Page and decide",
		key, resent.Sending.Format(time.RFC3339))
}

// refused records that Facebook made no post for key.
func (n *Network) refused(j *journal.Journal[attempt], key string) {
	a := *j.Get(key)
	a.Refused = true
	if err := j.Append(a); err != nil {
		n.log.Warn("facebook: Facebook refused a post, and the journal could not say so", "key", key, "err", err)
		j.Keep(a)
	}
}

// remember records the receipt of key. It is kept in memory even if the journal cannot be
// written, and the failure is logged: the post is already published.
func (n *Network) remember(j *journal.Journal[attempt], key string, r sdk.Receipt) {
	a := *j.Get(key)
	a.Receipt = &r
	if err := j.Append(a); err != nil {
		n.log.Error("facebook: post published but its receipt could not be journaled", "key", key, "post", r.RemoteID, "err", err)
		j.Keep(a)
	}
}

// receipt is a post's: its permalink is https://www.facebook.com/{page-post-id}.
func receipt(id string, at time.Time) sdk.Receipt {
	return sdk.Receipt{RemoteID: id, URL: "https://www.facebook.com/" + id, PublishedAt: at.UTC()}
}

// textHash identifies a text however Facebook hands it back: Unicode normalised and
// white space dropped (Facebook may turn \r\n into \n or trim the ends).
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
		return sdk.Receipt{}, false, errors.New("facebook: Lookup called before Configure")
	}
	n.publishMu.Lock()
	defer n.publishMu.Unlock()
	j := n.journal
	a := j.Get(idempotencyKey)
	switch {
	case a == nil && j.InMemory():
		return sdk.Receipt{}, false, sdk.Errorf(sdk.Retryable,
			"facebook: cannot tell whether key %q was published: this process did not send it, and without state_dir nothing remembers what earlier processes sent; look at the Page's recent posts and decide", idempotencyKey)
	case a == nil || a.Refused:
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

// pagePost is the part of a Page post the plugin reads.
type pagePost struct {
	ID          string `json:"id"`
	Message     string `json:"message"`
	CreatedTime string `json:"created_time"`
}

func (p pagePost) created() time.Time {
	t, err := time.Parse("2006-01-02T15:04:05-0700", p.CreatedTime)
	if err != nil {
		return time.Time{}
	}
	return t.UTC()
}

// scan searches the Page's own posts since a was sent for the one it never saw answered.
// It says "not published" only when nothing the Page posted since could be it.
func (n *Network) scan(ctx context.Context, c *config, j *journal.Journal[attempt], a *attempt) (sdk.Receipt, bool, error) {
	cannotTell := func(why string) error {
		return sdk.Errorf(sdk.Retryable, "facebook: cannot tell whether key %q was published: %s; look at the posts of Page %s since %s and decide",
			a.Key, why, a.Page, a.Sending.Format(time.RFC3339))
	}
	q := url.Values{"fields": {"id,message,created_time"}, "since": {fmt.Sprint(a.Sending.Add(-clockSkew).Unix())}, "limit": {fmt.Sprint(scanPageSize)}}
	strangers := 0
	for page := 0; page < scanPages; page++ {
		var out struct {
			Data   []pagePost `json:"data"`
			Paging struct {
				Cursors struct {
					After string `json:"after"`
				} `json:"cursors"`
				Next string `json:"next"`
			} `json:"paging"`
		}
		f, err := n.graph(ctx, c, c.token, http.MethodGet, "/"+a.Page+"/published_posts", q, &out)
		if f.is(10, 0) || f != nil && f.err.Code >= 200 && f.err.Code <= 299 {
			return sdk.Receipt{}, false, cannotTell("the token may not read the Page's posts (that takes pages_read_engagement)")
		}
		if err != nil {
			return sdk.Receipt{}, false, fmt.Errorf("facebook: cannot tell whether key %q was published: %w", a.Key, err)
		}
		for _, p := range out.Data {
			if j.Owner(p.ID) != "" {
				continue
			}
			if textHash(p.Message) == a.Hash {
				at := p.created()
				if at.IsZero() {
					at = a.Sending
				}
				r := receipt(p.ID, at)
				n.remember(j, a.Key, r)
				return r, true, nil
			}
			strangers++
		}
		if out.Paging.Next == "" || out.Paging.Cursors.After == "" {
			if strangers > 0 {
				return sdk.Receipt{}, false, cannotTell(fmt.Sprintf("%d post(s) published on the Page since then match no text tact sent", strangers))
			}
			return sdk.Receipt{}, false, nil
		}
		q.Set("after", out.Paging.Cursors.After)
	}
	return sdk.Receipt{}, false, cannotTell(fmt.Sprintf("the Page published more than %d posts since then and none matched", scanPages*scanPageSize))
}

// Delete removes the post (DELETE /{post-id}); one already gone is not an error.
func (n *Network) Delete(ctx context.Context, remoteID string) error {
	c, err := n.usable("Delete")
	if err != nil {
		return err
	}
	if !postIDRE.MatchString(remoteID) {
		return sdk.Errorf(sdk.Permanent, "facebook: %q is not a Facebook Page post id ({page-id}_{post-id})", remoteID)
	}
	if pg, _, _ := strings.Cut(remoteID, "_"); pg != c.pageID {
		// Facebook would answer with a permission error, which holds the whole account.
		return sdk.Errorf(sdk.Permanent, "facebook: post %s is on Page %s, not on this account's Page %s: delete it from an account of that Page", remoteID, pg, c.pageID)
	}
	var out struct {
		Success bool `json:"success"`
	}
	f, err := n.graph(ctx, c, c.token, http.MethodDelete, "/"+remoteID, nil, &out)
	switch {
	case f.is(100, 33):
		return nil // no such post (any more), as far as this token can see
	case err != nil:
		return err
	case !out.Success:
		return sdk.Errorf(sdk.Retryable, "facebook: DELETE /%s answered without success", remoteID)
	}
	return nil
}
