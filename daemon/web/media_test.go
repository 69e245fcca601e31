package web_test

import (
	"bytes"
	"fmt"
	"image"
	"image/png"
	"math/rand/v2"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/tact-hq/tact/daemon/queue"
)

func webPNG(t *testing.T, w, h int, noise bool) []byte {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	if noise {
		r := rand.New(rand.NewPCG(1, 2))
		for i := range img.Pix {
			img.Pix[i] = byte(r.Uint32())
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// upload posts the edit page's upload form with data as the file.
func (c *client) upload(path, csrf string, version int64, data []byte) (*http.Response, string) {
	c.t.Helper()
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	w.WriteField("csrf", csrf)
	w.WriteField("version", fmt.Sprint(version))
	part, _ := w.CreateFormFile("file", "/etc/passwd") // a browser's file name is never used
	part.Write(data)
	w.Close()
	req, err := http.NewRequest("POST", c.base+path, &body)
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Content-Type", w.FormDataContentType())
	resp, err := c.hc.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b := new(bytes.Buffer)
	b.ReadFrom(resp.Body)
	return resp, b.String()
}

// follow follows a redirect and returns the page it lands on.
func (c *client) follow(resp *http.Response, _ string) string {
	c.t.Helper()
	if resp.StatusCode != http.StatusSeeOther {
		c.t.Fatalf("status %d, want a redirect", resp.StatusCode)
	}
	_, body := c.do("GET", resp.Header.Get("Location"), nil)
	return body
}

func TestAttachmentsThroughTheEditPage(t *testing.T) {
	f := mustFixture(t)
	c := f.client()
	c.login(f.tokens[queue.RoleMarketer])
	p := f.posts["colours"]
	edit := fmt.Sprintf("/posts/%d/edit", p.ID)
	attach := fmt.Sprintf("/posts/%d/media", p.ID)

	// Refused files: nothing stored, nothing attached, the page says why.
	for _, bad := range []struct {
		data []byte
		says string
	}{
		{[]byte(`<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>`), "not an image or video tact publishes"},
		{[]byte("/etc/passwd"), "not an image or video tact publishes"},
	} {
		page := c.follow(c.upload(attach, c.csrf(edit), f.get(p.ID).Version, bad.data))
		if !strings.Contains(page, bad.says) || !strings.Contains(page, "Nothing was attached") {
			t.Fatalf("a refused upload shows:\n%s", page)
		}
	}
	if got := f.get(p.ID).Media; len(got) != 0 {
		t.Fatalf("refused uploads attached %v", got)
	}
	if entries, _ := os.ReadDir(f.mediaIn); len(entries) != 0 {
		t.Fatalf("refused uploads left %d files", len(entries))
	}
	// Without the form's CSRF token nothing happens.
	if resp, _ := c.upload(attach, "forged", f.get(p.ID).Version, webPNG(t, 2, 2, false)); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("upload without a CSRF token: %d", resp.StatusCode)
	}

	// A large image: attached, and Bluesky's limit is a problem of the post.
	big := webPNG(t, 600, 600, true)
	page := c.follow(c.upload(attach, c.csrf(edit), f.get(p.ID).Version, big))
	got := f.get(p.ID)
	if len(got.Media) != 1 || !strings.Contains(page, "Attached the file (image/png") || !strings.Contains(page, `src="/media/`+got.Media[0]+`"`) {
		t.Fatalf("after the upload: media %v, page:\n%s", got.Media, page)
	}
	if len(got.Problems) != 1 || !strings.Contains(got.Problems[0], "brand-bluesky: media[0]") {
		t.Fatalf("problems = %q; want Bluesky's size limit", got.Problems)
	}
	// Editing the text checks the whole post, attachments included: the problem stays.
	resp, _ := c.do("POST", edit, url.Values{"csrf": {c.csrf(edit)}, "version": {fmt.Sprint(got.Version)}, "text": {"New colours: sage, rust and sand."}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("text edit: %d", resp.StatusCode)
	}
	if got = f.get(p.ID); len(got.Problems) != 1 || len(got.Media) != 1 {
		t.Fatalf("after a text edit: problems %q, media %v; the attachment's problem must stay", got.Problems, got.Media)
	}

	// The thumbnail is served to anyone logged in, as the stored bytes, never to visitors.
	resp, body := c.do("GET", "/media/"+got.Media[0], nil)
	if resp.StatusCode != 200 || body != string(big) || resp.Header.Get("Content-Type") != "image/png" || resp.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Fatalf("GET /media: %d %q, %d bytes", resp.StatusCode, resp.Header.Get("Content-Type"), len(body))
	}
	if resp, _ := f.client().do("GET", "/media/"+got.Media[0], nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("GET /media without a session: %d, want a redirect to the login", resp.StatusCode)
	}
	if resp, _ := c.do("GET", "/media/..%2Ftact.db", nil); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("GET /media/<not an id>: %d", resp.StatusCode)
	}

	// Removing it clears the problem.
	page = c.follow(c.do("POST", fmt.Sprintf("/posts/%d/media/remove", p.ID), url.Values{"csrf": {c.csrf(edit)}, "version": {fmt.Sprint(got.Version)}, "media": {got.Media[0]}}))
	if got = f.get(p.ID); len(got.Media) != 0 || len(got.Problems) != 0 || !strings.Contains(page, "Removed the attachment") {
		t.Fatalf("after removing: media %v, problems %q", got.Media, got.Problems)
	}
}
