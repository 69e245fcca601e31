package web

import "github.com/tact-hq/tact/plugins/sdk"

// The queue shows each post's length as the target network counts it (SPEC 3), so that a
// marketer sees "287 / 300" before the plugin's Validate refuses the post. The counting is
// the SDK's, the same the plugins use; static/app.js repeats these rules in the browser for
// the live count while editing, and the two must agree.

// Length returns the length of text by a network's counting: "graphemes" (user-perceived
// characters, Bluesky), "mastodon" (code points, URLs as 23, @user@domain as @user),
// "bytes" (UTF-8 bytes), anything else (including "runes" and "") code points.
func Length(text, counting string) int { return sdk.Count(sdk.Counting(counting), text) }
