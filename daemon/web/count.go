package web

import (
	"encoding/json"
	"net/http"
	"unicode/utf8"

	"github.com/tact-hq/tact/plugins/sdk"
)

// The queue shows each post's length as the target network counts it (SPEC 3), so that a
// marketer sees "287 / 300" before the plugin's Validate refuses the post. The counting is
// the SDK's, the same the plugins use; static/app.js repeats these rules in the browser for
// the live count while editing, and the two must agree; for X's weighted counting, which it
// does not repeat, it asks countText.

// Length returns the length of text by a network's counting: "graphemes" (user-perceived
// characters, Bluesky), "mastodon" (code points, URLs as 23, @user@domain as @user),
// "bytes" (UTF-8 bytes), "x" (X's weighted length, as twitter-text counts it), anything
// else (including "runes" and "") code points.
func Length(text, counting string) int { return sdk.Count(sdk.Counting(counting), text) }

// maxCountText bounds the text GET /count measures: longer than any network's post.
const maxCountText = 100_000

// countText answers GET /count?counting=C&text=T with {"length": N}: the live counter's
// question for the countings static/app.js does not repeat.
func (h *Handler) countText(w http.ResponseWriter, rq *request) {
	q := rq.URL.Query()
	text := q.Get("text")
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	if len(text) > maxCountText || !utf8.ValidString(text) {
		w.WriteHeader(http.StatusBadRequest)
		json.NewEncoder(w).Encode(map[string]string{"error": "text must be UTF-8 and at most 100000 bytes"})
		return
	}
	json.NewEncoder(w).Encode(map[string]int{"length": Length(text, q.Get("counting"))})
}
