package bluesky

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/tact-hq/tact/plugins/sdk"
)

func mediaProblems(i int, m sdk.Media) []sdk.Problem {
	field := fmt.Sprintf("media[%d]", i)
	if m.Path == "" && m.URL == "" {
		return []sdk.Problem{{Field: field, Message: "has neither a path nor a URL"}}
	}
	var problems []sdk.Problem
	if m.Path != "" {
		if fi, err := os.Stat(m.Path); err != nil {
			problems = append(problems, sdk.Problem{Field: field, Message: fmt.Sprintf("cannot read %s: %v", m.Path, err)})
		} else if fi.Size() > maxImageBytes {
			problems = append(problems, sdk.Problem{Field: field, Message: fmt.Sprintf("%s is %d bytes; Bluesky accepts images up to %d: make it smaller", m.Path, fi.Size(), maxImageBytes)})
		}
	}
	if t := mediaType(m); !slices.Contains(imageTypes, t) {
		problems = append(problems, sdk.Problem{Field: field, Message: fmt.Sprintf("type %q is not an image Bluesky accepts (%s)", t, strings.Join(imageTypes, ", "))})
	}
	return problems
}

// mediaType is m's declared MIME type, else the one its file name suggests.
func mediaType(m sdk.Media) string {
	if m.MimeType != "" {
		t, _, _ := mime.ParseMediaType(m.MimeType)
		return t
	}
	name := m.Path
	if name == "" {
		if u, err := url.Parse(m.URL); err == nil {
			name = u.Path
		}
	}
	t, _, _ := mime.ParseMediaType(mime.TypeByExtension(filepath.Ext(name)))
	return t
}

// imagesEmbed uploads each image as a blob and returns the app.bsky.embed.images embed.
func (n *Network) imagesEmbed(ctx context.Context, media []sdk.Media) (json.RawMessage, error) {
	type image struct {
		Alt   string          `json:"alt"`
		Image json.RawMessage `json:"image"`
	}
	var images []image
	for i, m := range media {
		data, err := n.imageBytes(ctx, m)
		if err != nil {
			return nil, fmt.Errorf("media[%d]: %w", i, err)
		}
		var out struct {
			Blob json.RawMessage `json:"blob"`
		}
		if err := n.call(ctx, http.MethodPost, "com.atproto.repo.uploadBlob", nil, data, mediaType(m), &out); err != nil {
			return nil, fmt.Errorf("media[%d]: %w", i, err)
		}
		images = append(images, image{Alt: m.Alt, Image: out.Blob})
	}
	return json.Marshal(map[string]any{"$type": "app.bsky.embed.images", "images": images})
}

// imageBytes reads an image from its path or downloads it from its URL (without the session:
// the URL is someone else's server).
func (n *Network) imageBytes(ctx context.Context, m sdk.Media) ([]byte, error) {
	var r io.ReadCloser
	if m.Path != "" {
		f, err := os.Open(m.Path)
		if err != nil {
			return nil, sdk.Errorf(sdk.Permanent, "bluesky: reading image %s: %v", m.Path, err)
		}
		r = f
	} else {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, m.URL, nil)
		if err != nil {
			return nil, sdk.Errorf(sdk.Permanent, "bluesky: image URL %q: %v", m.URL, err)
		}
		resp, err := n.client.Do(req)
		if err != nil {
			return nil, sdk.Errorf(sdk.Retryable, "bluesky: downloading image %s: %v", m.URL, err)
		}
		if resp.StatusCode != http.StatusOK {
			resp.Body.Close()
			kind := sdk.Permanent
			if resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests {
				kind = sdk.Retryable
			}
			return nil, sdk.Errorf(kind, "bluesky: downloading image %s: %s", m.URL, resp.Status)
		}
		r = resp.Body
	}
	defer r.Close()
	var buf bytes.Buffer
	if _, err := io.Copy(&buf, io.LimitReader(r, maxImageBytes+1)); err != nil {
		return nil, sdk.Errorf(sdk.Retryable, "bluesky: reading image: %v", err)
	}
	if buf.Len() > maxImageBytes {
		return nil, sdk.Errorf(sdk.Permanent, "bluesky: image is larger than %d bytes: make it smaller", maxImageBytes)
	}
	return buf.Bytes(), nil
}
