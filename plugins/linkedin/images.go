package linkedin

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/tact-hq/tact/config/redact"
	"github.com/tact-hq/tact/plugins/sdk"
)

// upload puts one image on LinkedIn through the Images API and returns its URN once
// LinkedIn has processed it: POST /rest/images?action=initializeUpload names an upload
// URL and the image's URN, the bytes go there with PUT, and GET /rest/images/{urn} says
// when its status is AVAILABLE. A post naming an image still processing may be refused.
func (n *Network) upload(ctx context.Context, c *config, m sdk.Media) (string, error) {
	// No byte limit is documented for images, only the pixel count Validate checks; the
	// bound is the largest attachment a plugin call can carry.
	data, err := sdk.MediaData(m, sdk.MaxMessageBytes)
	if err != nil {
		return "", err
	}
	var init struct {
		Value struct {
			UploadURL string `json:"uploadUrl"`
			Image     string `json:"image"`
		} `json:"value"`
	}
	body := map[string]any{"initializeUploadRequest": map[string]string{"owner": c.author}}
	if _, _, err := n.rest(ctx, c, http.MethodPost, "/rest/images?action=initializeUpload", body, "", &init); err != nil {
		return "", err
	}
	urn, upload := init.Value.Image, init.Value.UploadURL
	if !strings.HasPrefix(urn, "urn:li:image:") || upload == "" {
		return "", sdk.Errorf(sdk.Retryable, "linkedin: POST /rest/images?action=initializeUpload answered without an image URN and upload URL")
	}
	u, err := url.Parse(upload)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") {
		return "", sdk.Errorf(sdk.Retryable, "linkedin: the image upload URL LinkedIn gave (%s) is not an http(s) URL", redact.URL(upload))
	}
	r := request{method: http.MethodPut, url: upload, body: data, ctype: sdk.MediaType(m)}
	if n.trustedHost(c, u.Hostname()) {
		// LinkedIn's upload URLs take the member's token; a host that is not LinkedIn's
		// (or the API's configured one) never gets it.
		r.bearer = c.token
	}
	if _, _, err := n.do(ctx, "PUT (image upload)", r); err != nil {
		return "", err
	}
	return urn, n.awaitImage(ctx, c, urn)
}

// trustedHost reports whether host is LinkedIn's or the configured API's.
func (n *Network) trustedHost(c *config, host string) bool {
	if host == "linkedin.com" || strings.HasSuffix(host, ".linkedin.com") {
		return true
	}
	api, err := url.Parse(c.apiURL)
	return err == nil && api.Hostname() == host
}

// awaitImage polls the image until LinkedIn has processed it.
func (n *Network) awaitImage(ctx context.Context, c *config, urn string) error {
	ctx, cancel := context.WithTimeout(ctx, n.imageDeadline)
	defer cancel()
	var tick <-chan time.Time
	for {
		var img struct {
			Status string `json:"status"`
		}
		_, _, err := n.rest(ctx, c, http.MethodGet, "/rest/images/"+url.QueryEscape(urn), nil, "", &img)
		switch {
		case err != nil && ctx.Err() == nil:
			return err
		case err == nil && img.Status == "AVAILABLE":
			return nil
		case err == nil && img.Status == "PROCESSING_FAILED":
			return sdk.Errorf(sdk.Permanent, "linkedin: LinkedIn could not process image %s (PROCESSING_FAILED): check that it is a valid JPEG, PNG or GIF under %d pixels and at most 250 frames", urn, maxPixels)
		}
		if tick == nil {
			t := time.NewTicker(n.pollInterval)
			defer t.Stop()
			tick = t.C
		}
		select {
		case <-ctx.Done():
			return sdk.Errorf(sdk.Retryable, "linkedin: image %s was still processing when the deadline passed: %v", urn, ctx.Err())
		case <-tick:
		}
	}
}

func imageCountMessage(n int) string {
	return fmt.Sprintf("%d images; LinkedIn takes up to %d per post: remove %d", n, maxImages, n-maxImages)
}
