package micropub

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"slices"
	"strings"

	"github.com/tact-hq/tact/plugins/internal/journal"
	"github.com/tact-hq/tact/plugins/sdk"
)

// Validate lists what tact will not send: an empty note, a link that is not a web address,
// more than 10 photos, other types than JPEG, PNG, GIF and WebP, files over max_upload_mb.
func (n *Network) Validate(ctx context.Context, p sdk.Post) ([]sdk.Problem, error) {
	maxUpload := n.cfg().maxUpload
	if maxUpload == 0 {
		maxUpload = defaultUploadMB << 20
	}
	var problems []sdk.Problem
	if strings.TrimSpace(p.Text) == "" && p.Link == "" && len(p.Media) == 0 {
		problems = append(problems, sdk.Problem{Field: "text", Message: "the post is empty: write a text"})
	}
	if p.Link != "" {
		if u, err := url.Parse(p.Link); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			problems = append(problems, sdk.Problem{Field: "link", Message: fmt.Sprintf("%q is not an http(s) address: the site links to web pages only", p.Link)})
		}
	}
	if len(p.Media) > maxPhotos {
		problems = append(problems, sdk.Problem{Field: "media", Message: fmt.Sprintf("%d photos; tact sends at most %d with a note: remove %d", len(p.Media), maxPhotos, len(p.Media)-maxPhotos)})
	}
	for i, m := range p.Media {
		if t := sdk.MediaType(m); !slices.Contains(photoTypes, t) {
			problems = append(problems, sdk.Problem{Field: fmt.Sprintf("media[%d]", i), Message: fmt.Sprintf("is %s; tact sends JPEG, PNG, GIF and WebP photos through Micropub", t)})
		}
		if pr := sdk.MediaSizeProblem(i, m, maxUpload, "this site (max_upload_mb)"); pr != nil {
			problems = append(problems, *pr)
		}
	}
	return problems, nil
}

// photo is an uploaded photo, or one to send with the post (data set).
type photo struct {
	url  string
	alt  string
	data sdk.Media
}

// Publish sends the note, at most once per idempotency key (see the package comment).
func (n *Network) Publish(ctx context.Context, p sdk.Post, idempotencyKey string) (sdk.Receipt, error) {
	if idempotencyKey == "" {
		return sdk.Receipt{}, sdk.Errorf(sdk.Permanent, "micropub: Publish called without an idempotency key")
	}
	c, err := n.usable("Publish")
	if err != nil {
		return sdk.Receipt{}, err
	}
	problems, _ := n.Validate(ctx, p)
	if len(problems) > 0 {
		return sdk.Receipt{}, sdk.Errorf(sdk.Permanent, "micropub: the site would refuse this post: %s", sdk.JoinProblems(problems))
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	j := n.journal
	if prev := j.Get(idempotencyKey); prev != nil {
		if prev.Receipt != nil {
			return *prev.Receipt, nil
		}
		// Sent, never answered: the post may exist. Only a match says so; otherwise a
		// person decides (the daemon's unknown state), never a second send.
		return n.find(ctx, c, j, prev)
	}
	photos := make([]photo, 0, len(p.Media))
	for i, m := range p.Media {
		if _, err := sdk.MediaData(m, c.maxUpload); err != nil {
			return sdk.Receipt{}, fmt.Errorf("media[%d]: %w", i, err)
		}
		if c.media == "" {
			photos = append(photos, photo{alt: m.Alt, data: m})
			continue
		}
		u, err := n.upload(ctx, c, m)
		if err != nil {
			return sdk.Receipt{}, fmt.Errorf("media[%d]: %w", i, err)
		}
		photos = append(photos, photo{url: u, alt: m.Alt})
	}
	slug := Slug(idempotencyKey)
	body, ctype, err := n.entry(c, sdk.TextWithLink(p), slug, photos)
	if err != nil {
		return sdk.Receipt{}, err
	}
	a := attempt{Attempt: journal.Attempt{Key: idempotencyKey, Sending: n.now().UTC()}, Slug: slug}
	if err := j.Append(a); err != nil {
		return sdk.Receipt{}, sdk.Errorf(sdk.Retryable, "%v: nothing was sent", err)
	}
	h, _, err := n.do(ctx, c, http.MethodPost, c.endpoint, "POST h=entry", body, ctype)
	if err != nil {
		if k := sdk.KindOf(err); k != sdk.Retryable {
			// A refusal: nothing was made, the key may be sent again.
			n.forget(j, idempotencyKey)
		}
		return sdk.Receipt{}, err
	}
	loc := h.Get("Location")
	if loc == "" {
		return sdk.Receipt{}, sdk.Errorf(sdk.Retryable, "micropub: the server accepted the post but named no Location: it may exist; Lookup looks for it by its slug %s", slug)
	}
	base, _ := url.Parse(c.endpoint)
	if u, err := base.Parse(loc); err == nil {
		loc = u.String()
	}
	r := sdk.Receipt{RemoteID: loc, URL: loc, PublishedAt: a.Sending}
	n.remember(j, idempotencyKey, r)
	return r, nil
}

// entry is the create request: JSON (properties as arrays, photos with alt text),
// x-www-form-urlencoded, or multipart/form-data when photos go with it.
func (n *Network) entry(c *config, text, slug string, photos []photo) ([]byte, string, error) {
	attached := len(photos) > 0 && photos[0].url == ""
	if c.json && !attached {
		props := map[string]any{"content": []string{text}, "mp-slug": []string{slug}}
		if len(c.categories) > 0 {
			props["category"] = c.categories
		}
		if len(photos) > 0 {
			list := make([]any, len(photos))
			for i, ph := range photos {
				if ph.alt != "" {
					list[i] = map[string]string{"value": ph.url, "alt": ph.alt}
				} else {
					list[i] = ph.url
				}
			}
			props["photo"] = list
		}
		b, err := json.Marshal(map[string]any{"type": []string{"h-entry"}, "properties": props})
		return b, "application/json", err
	}
	form := url.Values{"h": {"entry"}, "content": {text}, "mp-slug": {slug}}
	for _, cat := range c.categories {
		form.Add("category[]", cat)
	}
	if !attached {
		for _, ph := range photos {
			form.Add("photo[]", ph.url)
		}
		return []byte(form.Encode()), "application/x-www-form-urlencoded", nil
	}
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	for k, vs := range form {
		for _, v := range vs {
			_ = w.WriteField(k, v)
		}
	}
	for _, ph := range photos {
		if err := writeFile(w, "photo[]", ph.data); err != nil {
			return nil, "", err
		}
	}
	if err := w.Close(); err != nil {
		return nil, "", err
	}
	return b.Bytes(), w.FormDataContentType(), nil
}

func writeFile(w *multipart.Writer, field string, m sdk.Media) error {
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", fmt.Sprintf(`form-data; name=%q; filename=%q`, field, sdk.FileName(m)))
	h.Set("Content-Type", sdk.MediaType(m))
	part, err := w.CreatePart(h)
	if err != nil {
		return err
	}
	_, err = part.Write(m.Data)
	return err
}

// upload sends a photo to the media endpoint (multipart, field "file") and returns its
// address from the Location header.
func (n *Network) upload(ctx context.Context, c *config, m sdk.Media) (string, error) {
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	if err := writeFile(w, "file", m); err != nil {
		return "", err
	}
	if err := w.Close(); err != nil {
		return "", err
	}
	h, _, err := n.do(ctx, c, http.MethodPost, c.media, "POST to the media endpoint", b.Bytes(), w.FormDataContentType())
	if err != nil {
		return "", err
	}
	loc := h.Get("Location")
	base, _ := url.Parse(c.media)
	u, perr := base.Parse(loc)
	if loc == "" || perr != nil {
		return "", sdk.Errorf(sdk.Retryable, "micropub: the media endpoint took the photo but named no Location")
	}
	return u.String(), nil
}

func (n *Network) remember(j *journal.Journal[attempt], key string, r sdk.Receipt) {
	a := *j.Get(key)
	a.Receipt = &r
	if err := j.Append(a); err != nil {
		n.log.Error("micropub: post published but its address could not be journaled", "key", key, "post", r.URL, "err", err)
		j.Keep(a)
	}
}

// forget drops an attempt the server refused: it made nothing.
func (n *Network) forget(j *journal.Journal[attempt], key string) {
	a := *j.Get(key)
	a.Sending = a.Sending.AddDate(-1, 0, 0) // dropped at the next compaction
	a.Slug = ""
	if err := j.Append(a); err != nil {
		n.log.Warn("micropub: could not journal a refused send", "key", key, "err", err)
	}
	j.Forget(key)
}

// Lookup finds the post published with idempotencyKey (see the package comment).
func (n *Network) Lookup(ctx context.Context, idempotencyKey string) (sdk.Receipt, bool, error) {
	c, err := n.usable("Lookup")
	if err != nil {
		return sdk.Receipt{}, false, err
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	j := n.journal
	a := j.Get(idempotencyKey)
	switch {
	case a == nil && j.InMemory():
		return sdk.Receipt{}, false, sdk.Errorf(sdk.Retryable, "micropub: cannot tell whether key %q was published: this process did not send it, and without state_dir nothing remembers what earlier processes sent; look at the site's recent posts and decide", idempotencyKey)
	case a == nil:
		return sdk.Receipt{}, false, nil // every send is journaled first
	case a.Receipt != nil:
		return *a.Receipt, true, nil
	}
	r, err := n.find(ctx, c, j, a)
	return r, err == nil, err
}

// source is a post as q=source lists it.
type source struct {
	Properties map[string][]any `json:"properties"`
}

func (s source) first(name string) string {
	if v := s.Properties[name]; len(v) > 0 {
		if str, ok := v[0].(string); ok {
			return str
		}
	}
	return ""
}

// find looks for a's post among the server's recent posts (q=source, the list extension).
// It never answers "not published": an error says why it cannot tell.
func (n *Network) find(ctx context.Context, c *config, j *journal.Journal[attempt], a *attempt) (sdk.Receipt, error) {
	cannotTell := func(why string) error {
		return sdk.Errorf(sdk.Retryable, "micropub: cannot tell whether key %q was published: its post was sent at %s and no answer came back; %s; look at the site's posts since then for one ending in %s and decide", a.Key, a.Sending.Format("2006-01-02 15:04:05Z"), why, a.Slug)
	}
	var out struct {
		Items []source `json:"items"`
	}
	err := n.get(ctx, c, url.Values{"q": {"source"}, "limit": {"50"}, "properties[]": {"url", "mp-slug", "slug", "published"}}, &out)
	if err != nil {
		if k := sdk.KindOf(err); k == sdk.Auth || k == sdk.RateLimited {
			return sdk.Receipt{}, err
		}
		return sdk.Receipt{}, cannotTell("the server does not list its posts (q=source without url): " + err.Error())
	}
	for _, it := range out.Items {
		addr := it.first("url")
		if addr == "" || j.Owner(addr) != "" {
			continue
		}
		path := addr
		if u, err := url.Parse(addr); err == nil {
			path = u.Path
		}
		if it.first("mp-slug") == a.Slug || it.first("slug") == a.Slug || strings.Contains(path, a.Slug) {
			r := sdk.Receipt{RemoteID: addr, URL: addr, PublishedAt: a.Sending}
			n.remember(j, a.Key, r)
			return r, nil
		}
	}
	return sdk.Receipt{}, cannotTell(fmt.Sprintf("none of the %d posts the server lists carries its slug", len(out.Items)))
}

// Delete deletes the post at remoteID (its address) with action=delete.
func (n *Network) Delete(ctx context.Context, remoteID string) error {
	c, err := n.usable("Delete")
	if err != nil {
		return err
	}
	if u, err := url.Parse(remoteID); err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return sdk.Errorf(sdk.Permanent, "micropub: %q is not a post's address", remoteID)
	}
	var body []byte
	ctype := "application/json"
	if c.json {
		body, _ = json.Marshal(map[string]string{"action": "delete", "url": remoteID})
	} else {
		body, ctype = []byte(url.Values{"action": {"delete"}, "url": {remoteID}}.Encode()), "application/x-www-form-urlencoded"
	}
	_, _, err = n.do(ctx, c, http.MethodPost, c.endpoint, "POST action=delete", body, ctype)
	if e, ok := err.(*sdk.Error); ok && e.Kind == sdk.Permanent && (strings.Contains(e.Message, " 404:") || strings.Contains(e.Message, " 410:")) {
		return nil // already gone
	}
	return err
}
