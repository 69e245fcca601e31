package bluesky

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
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
	if t := sdk.MediaType(m); !slices.Contains(imageTypes, t) {
		problems = append(problems, sdk.Problem{Field: field, Message: fmt.Sprintf("type %q is not an image Bluesky accepts (%s)", t, strings.Join(imageTypes, ", "))})
	}
	return problems
}

// imagesEmbed uploads each image as a blob and returns the app.bsky.embed.images embed.
func (n *Network) imagesEmbed(ctx context.Context, media []sdk.Media) (json.RawMessage, error) {
	type image struct {
		Alt   string          `json:"alt"`
		Image json.RawMessage `json:"image"`
	}
	var images []image
	for i, m := range media {
		// Downloaded without the session: the URL is someone else's server.
		data, err := sdk.ReadMedia(ctx, n.client, m, maxImageBytes)
		if err != nil {
			return nil, fmt.Errorf("media[%d]: bluesky: %w", i, err)
		}
		var out struct {
			Blob json.RawMessage `json:"blob"`
		}
		if err := n.call(ctx, http.MethodPost, "com.atproto.repo.uploadBlob", nil, data, sdk.MediaType(m), &out); err != nil {
			return nil, fmt.Errorf("media[%d]: %w", i, err)
		}
		images = append(images, image{Alt: m.Alt, Image: out.Blob})
	}
	return json.Marshal(map[string]any{"$type": "app.bsky.embed.images", "images": images})
}
