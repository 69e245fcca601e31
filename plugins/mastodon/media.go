package mastodon

import (
	"bytes"
	"context"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"time"

	"github.com/tact-hq/tact/plugins/sdk"
)

// attachment is the part of Mastodon's MediaAttachment entity the plugin reads.
type attachment struct {
	ID  string `json:"id"`
	URL string `json:"url"`
}

// upload sends one attachment and waits until the server has processed it: POST
// /api/v2/media answers 202 with no url while it transcodes, and a status may only use it
// once GET /api/v1/media/:id answers 200 with a url. Servers without v2 get /api/v1/media.
func (n *Network) upload(ctx context.Context, m sdk.Media) (string, error) {
	data, name, err := n.mediaBytes(m)
	if err != nil {
		return "", err
	}
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="file"; filename=%q`, name))
	h.Set("Content-Type", sdk.MediaType(m))
	part, err := w.CreatePart(h)
	if err != nil {
		return "", err
	}
	if _, err := part.Write(data); err != nil {
		return "", err
	}
	if m.Alt != "" {
		if err := w.WriteField("description", m.Alt); err != nil {
			return "", err
		}
	}
	if err := w.Close(); err != nil {
		return "", err
	}

	var a attachment
	code, err := n.call(ctx, http.MethodPost, "/api/v2/media", bytes.NewReader(body.Bytes()), w.FormDataContentType(), nil, &a)
	if code == http.StatusNotFound {
		code, err = n.call(ctx, http.MethodPost, "/api/v1/media", bytes.NewReader(body.Bytes()), w.FormDataContentType(), nil, &a)
	}
	if err != nil {
		return "", err
	}
	if a.ID == "" {
		return "", sdk.Errorf(sdk.Retryable, "mastodon: media upload answered %d without an attachment id", code)
	}
	if a.URL != "" && code != http.StatusAccepted {
		return a.ID, nil
	}
	return a.ID, n.awaitMedia(ctx, a.ID)
}

// awaitMedia polls a processing attachment until it has a url or the deadline passes.
func (n *Network) awaitMedia(ctx context.Context, id string) error {
	ctx, cancel := context.WithTimeout(ctx, n.mediaDeadline)
	defer cancel()
	tick := time.NewTicker(n.pollInterval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return sdk.Errorf(sdk.Retryable, "mastodon: attachment %s was still processing when the deadline passed: %v", id, ctx.Err())
		case <-tick.C:
		}
		var a attachment
		code, err := n.call(ctx, http.MethodGet, "/api/v1/media/"+url.PathEscape(id), nil, "", nil, &a)
		if err != nil {
			if ctx.Err() != nil {
				continue // reported by the select above
			}
			return err
		}
		// 206 Partial Content: still processing.
		if code == http.StatusOK && a.URL != "" {
			return nil
		}
	}
}

// mediaBytes is an attachment's bytes, within this server's limit for its type, and a
// name for the upload.
func (n *Network) mediaBytes(m sdk.Media) ([]byte, string, error) {
	n.mu.Lock()
	limit := n.sizes.of(sdk.MediaType(m))
	n.mu.Unlock()
	data, err := sdk.MediaData(m, limit)
	if err != nil {
		return nil, "", fmt.Errorf("mastodon: attachment: %w", err)
	}
	return data, sdk.FileName(m), nil
}
