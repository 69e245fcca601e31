// Package sdk is what a plugin author imports to add a social network to tact: implement
// Network, call Serve, and run the conformance kit (plugins/sdk/conformance). The package
// never imports the daemon and needs no cgo, so a plugin's build stays small.
package sdk

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Network is one account on one social network. The daemon starts one plugin process per
// account, calls Configure once with the account's settings (secrets resolved), then the
// other methods, each with a deadline in ctx.
type Network interface {
	// Describe says what the network accepts. It may be called before Configure.
	Describe(ctx context.Context) (Description, error)
	// Configure receives the account's settings. Verify credentials here: an error of
	// kind Auth marks the account as needing attention.
	Configure(ctx context.Context, settings map[string]string) error
	// Validate lists what the network would refuse in p (length by the network's own
	// counting, media limits). No problems means the post may be approved.
	Validate(ctx context.Context, p Post) ([]Problem, error)
	// Publish sends p. The same IdempotencyKey must never produce two remote posts.
	Publish(ctx context.Context, p Post, idempotencyKey string) (Receipt, error)
	// Lookup finds an earlier publish by its idempotency key, for crash recovery. found is
	// false when the network can tell it was never published; return an error when it
	// cannot tell.
	Lookup(ctx context.Context, idempotencyKey string) (r Receipt, found bool, err error)
	// Delete removes a published post by its remote id.
	Delete(ctx context.Context, remoteID string) error
}

// Trender is implemented by networks that offer trending topics as context items.
type Trender interface {
	Trends(ctx context.Context) ([]Trend, error)
}

// Counting says how a network counts a post's length.
type Counting string

const (
	CountRunes     Counting = "runes"     // Unicode code points
	CountGraphemes Counting = "graphemes" // user-perceived characters (Bluesky)
	CountMastodon  Counting = "mastodon"  // URLs as 23, @user@domain as @user, code points
	CountBytes     Counting = "bytes"
	CountX         Counting = "x" // X (Twitter): twitter-text's weighted length (count_x.go)
)

// Description is what Describe returns.
type Description struct {
	Name          string   // network name, e.g. "mastodon"
	Version       string   // plugin version
	MaxLength     int      // 0 = no limit
	Counting      Counting // how MaxLength is counted
	MaxMedia      int      // attachments per post
	MediaTypes    []string // accepted MIME types
	Capabilities  []string // e.g. "delete", "lookup", "trends", "media"
	SettingsKeys  []string // settings Configure understands (documentation, checks)
	SecretSetting []string // settings that are secrets (never logged)
}

// Media is an attachment. The daemon stored it from a person's upload and hands over
// its bytes: a plugin never opens a path or fetches a URL for an attachment.
type Media struct {
	ID       string // the daemon's id for it: the hex SHA-256 of the bytes
	MimeType string // sniffed from the bytes by the daemon
	Size     int64  // bytes
	Width    int    // pixels, for PNG, JPEG and GIF images (0 otherwise)
	Height   int
	Alt      string
	Data     []byte // the bytes, in Publish only: Validate gets the rest
}

// Post is what a network publishes.
type Post struct {
	Text     string
	Link     string
	Media    []Media
	Language string // BCP 47, may be empty
}

// Receipt is the proof of a publish.
type Receipt struct {
	RemoteID    string
	URL         string
	PublishedAt time.Time
}

// Problem is one reason a network would refuse a post.
type Problem struct {
	Field   string // "text", "media", "link"
	Message string
}

func (p Problem) String() string { return p.Field + ": " + p.Message }

// ErrorKind types a plugin error so the daemon knows what to do next.
type ErrorKind string

const (
	// Retryable: try again later (network down, 5xx).
	Retryable ErrorKind = "retryable"
	// RateLimited: try again after RetryAfter.
	RateLimited ErrorKind = "rate_limited"
	// Auth: the account needs a person (expired or revoked credentials); its posts are held.
	Auth ErrorKind = "auth"
	// Permanent: the network refused this post; retrying will not help.
	Permanent ErrorKind = "permanent"
)

// Error is a typed plugin error. Return one from any Network method; an untyped error is
// treated as Retryable.
type Error struct {
	Kind       ErrorKind
	RetryAfter time.Duration // RateLimited only
	Message    string
}

func (e *Error) Error() string {
	if e.Kind == RateLimited && e.RetryAfter > 0 {
		return fmt.Sprintf("%s (retry after %s): %s", e.Kind, e.RetryAfter, e.Message)
	}
	return string(e.Kind) + ": " + e.Message
}

// Errorf returns an *Error of kind k.
func Errorf(k ErrorKind, format string, args ...any) error {
	return &Error{Kind: k, Message: fmt.Sprintf(format, args...)}
}

// RateLimit returns a RateLimited error that asks to wait after.
func RateLimit(after time.Duration, format string, args ...any) error {
	return &Error{Kind: RateLimited, RetryAfter: after, Message: fmt.Sprintf(format, args...)}
}

// KindOf returns err's kind; untyped errors are Retryable, nil is "".
func KindOf(err error) ErrorKind {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return Retryable
}

// Trend is a trending topic offered as a context item.
type Trend struct {
	Title    string
	URL      string
	Summary  string
	Language string
}
