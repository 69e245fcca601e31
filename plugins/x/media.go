package x

import (
	"bytes"
	"context"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/tact-hq/tact/plugins/sdk"
)

// X's media limits (docs.x.com, media upload best practices): up to 4 images, or one GIF,
// or one video per post; alt text up to 1000 characters.
const (
	maxImages    = 4
	imageBytes   = 5 << 20
	gifBytes     = 15 << 20
	videoBytes   = 512 << 20
	maxAltLength = 1000
	// chunkBytes is the size of each APPEND segment (X takes up to 5 MB).
	chunkBytes = 4 << 20
)

var mediaTypes = []string{"image/jpeg", "image/png", "image/gif", "image/webp", "video/mp4"}

// category is X's media_category for an attachment of MIME type t.
func category(t string) string {
	switch {
	case t == "image/gif":
		return "tweet_gif"
	case strings.HasPrefix(t, "video/"):
		return "tweet_video"
	default:
		return "tweet_image"
	}
}

func sizeLimit(t string) int64 {
	switch category(t) {
	case "tweet_gif":
		return gifBytes
	case "tweet_video":
		return videoBytes
	default:
		return imageBytes
	}
}

// uploadData is the part of X's media upload answers the plugin reads.
type uploadData struct {
	Data struct {
		ID             string `json:"id"`
		ProcessingInfo *struct {
			State          string `json:"state"`
			CheckAfterSecs int    `json:"check_after_secs"`
			Error          *struct {
				Message string `json:"message"`
			} `json:"error"`
		} `json:"processing_info"`
	} `json:"data"`
}

// upload sends one attachment through X's chunked upload (POST /2/media/upload/initialize,
// /{id}/append per 4 MiB segment, /{id}/finalize, then GET /2/media/upload?command=STATUS
// while X processes a video or GIF), sets its alt text, and returns the media id.
func (n *Network) upload(ctx context.Context, a api, m sdk.Media) (string, error) {
	t := sdk.MediaType(m)
	data, err := sdk.MediaData(m, sizeLimit(t))
	if err != nil {
		return "", fmt.Errorf("x: attachment: %w", err)
	}
	var init uploadData
	if _, err := a.postJSON(ctx, "/2/media/upload/initialize", map[string]any{
		"media_type": t, "total_bytes": len(data), "media_category": category(t),
	}, &init); err != nil {
		return "", err
	}
	id := init.Data.ID
	if id == "" {
		return "", sdk.Errorf(sdk.Retryable, "x: POST /2/media/upload/initialize answered without a media id")
	}
	for seg := 0; seg*chunkBytes < len(data); seg++ {
		chunk := data[seg*chunkBytes : min((seg+1)*chunkBytes, len(data))]
		body, ctype, err := appendBody(seg, chunk)
		if err != nil {
			return "", err
		}
		if _, err := a.do(ctx, http.MethodPost, "/2/media/upload/"+url.PathEscape(id)+"/append", body, ctype, nil); err != nil {
			return "", err
		}
	}
	var fin uploadData
	if _, err := a.do(ctx, http.MethodPost, "/2/media/upload/"+url.PathEscape(id)+"/finalize", nil, "", &fin); err != nil {
		return "", err
	}
	if err := n.awaitProcessing(ctx, a, id, fin); err != nil {
		return "", err
	}
	if m.Alt != "" && category(t) != "tweet_video" {
		if _, err := a.postJSON(ctx, "/2/media/metadata", map[string]any{
			"id": id, "metadata": map[string]any{"alt_text": map[string]string{"text": m.Alt}},
		}, nil); err != nil {
			return "", fmt.Errorf("setting the alt text: %w", err)
		}
	}
	return id, nil
}

func appendBody(seg int, chunk []byte) (*bytes.Reader, string, error) {
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	if err := w.WriteField("segment_index", strconv.Itoa(seg)); err != nil {
		return nil, "", err
	}
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", `form-data; name="media"; filename="chunk"`)
	h.Set("Content-Type", "application/octet-stream")
	part, err := w.CreatePart(h)
	if err != nil {
		return nil, "", err
	}
	if _, err := part.Write(chunk); err != nil {
		return nil, "", err
	}
	if err := w.Close(); err != nil {
		return nil, "", err
	}
	return bytes.NewReader(b.Bytes()), w.FormDataContentType(), nil
}

// awaitProcessing polls the upload's status, as often as X's check_after_secs says (at
// most every pollMax), until it succeeds, fails or the media deadline passes.
func (n *Network) awaitProcessing(ctx context.Context, a api, id string, st uploadData) error {
	ctx, cancel := context.WithTimeout(ctx, n.mediaDeadline)
	defer cancel()
	for {
		info := st.Data.ProcessingInfo
		switch {
		case info == nil || info.State == "succeeded":
			return nil
		case info.State == "failed":
			why := "no reason given"
			if info.Error != nil && info.Error.Message != "" {
				why = info.Error.Message
			}
			return sdk.Errorf(sdk.Permanent, "x: X could not process the attachment (%s): check it plays or shows elsewhere, or convert it (X takes MP4 with H.264 and AAC, up to 140 seconds)", why)
		}
		wait := min(time.Duration(max(info.CheckAfterSecs, 1))*time.Second, n.pollMax)
		select {
		case <-ctx.Done():
			return sdk.Errorf(sdk.Retryable, "x: attachment %s was still being processed by X when the deadline passed: %v", id, ctx.Err())
		case <-time.After(wait):
		}
		st = uploadData{}
		if _, err := a.getJSON(ctx, "/2/media/upload?command=STATUS&media_id="+url.QueryEscape(id), &st); err != nil {
			if ctx.Err() != nil {
				continue // reported by the select above
			}
			return err
		}
	}
}
