package bluesky

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/tact-hq/tact/plugins/sdk"
)

func mediaProblems(i int, m sdk.Media) []sdk.Problem {
	var problems []sdk.Problem
	if t := sdk.MediaType(m); !slices.Contains(imageTypes, t) {
		problems = append(problems, sdk.Problem{Field: fmt.Sprintf("media[%d]", i), Message: fmt.Sprintf("type %q is not an image Bluesky accepts (%s)", t, strings.Join(imageTypes, ", "))})
	}
	if p := sdk.MediaSizeProblem(i, m, maxImageBytes, "Bluesky"); p != nil {
		problems = append(problems, *p)
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
		data, err := sdk.MediaData(m, maxImageBytes)
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
