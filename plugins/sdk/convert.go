package sdk

import (
	"errors"
	"strings"
	"time"

	pluginpb "github.com/tact-hq/tact/plugins/proto"
)

// Converters between the Go types authors see and the wire messages. They live here,
// unexported, because Serve (in this package) needs them and the generated package must
// not import sdk.

func errorToProto(err error) *pluginpb.Error {
	if err == nil {
		return nil
	}
	var e *Error
	if !errors.As(err, &e) {
		return &pluginpb.Error{Kind: pluginpb.Error_RETRYABLE, Message: err.Error(), Untyped: true}
	}
	// Keep the context the author wrapped around the typed error ("example: POST /api/posts:
	// ..."), but say the kind only once: the receiving side prints it again.
	msg := e.Message
	if err != error(e) {
		msg = strings.Replace(err.Error(), e.Error(), e.Message, 1)
	}
	return &pluginpb.Error{Kind: kindToProto(e.Kind), RetryAfterMs: e.RetryAfter.Milliseconds(), Message: msg}
}

func kindToProto(k ErrorKind) pluginpb.Error_Kind {
	switch k {
	case RateLimited:
		return pluginpb.Error_RATE_LIMITED
	case Auth:
		return pluginpb.Error_AUTH
	case Permanent:
		return pluginpb.Error_PERMANENT
	default:
		// An unknown kind is treated like an untyped error: try again later.
		return pluginpb.Error_RETRYABLE
	}
}

func kindFromProto(k pluginpb.Error_Kind) ErrorKind {
	switch k {
	case pluginpb.Error_RATE_LIMITED:
		return RateLimited
	case pluginpb.Error_AUTH:
		return Auth
	case pluginpb.Error_PERMANENT:
		return Permanent
	default:
		return Retryable
	}
}

func msDuration(ms int64) time.Duration { return time.Duration(ms) * time.Millisecond }

func descriptionToProto(d Description) *pluginpb.DescribeResponse {
	return &pluginpb.DescribeResponse{
		Name:           d.Name,
		Version:        d.Version,
		MaxLength:      int64(d.MaxLength),
		Counting:       string(d.Counting),
		MaxMedia:       int64(d.MaxMedia),
		MediaTypes:     d.MediaTypes,
		Capabilities:   d.Capabilities,
		SettingsKeys:   d.SettingsKeys,
		SecretSettings: d.SecretSetting,
	}
}

func descriptionFromProto(r *pluginpb.DescribeResponse) Description {
	return Description{
		Name:          r.GetName(),
		Version:       r.GetVersion(),
		MaxLength:     int(r.GetMaxLength()),
		Counting:      Counting(r.GetCounting()),
		MaxMedia:      int(r.GetMaxMedia()),
		MediaTypes:    r.GetMediaTypes(),
		Capabilities:  r.GetCapabilities(),
		SettingsKeys:  r.GetSettingsKeys(),
		SecretSetting: r.GetSecretSettings(),
	}
}

func postToProto(p Post) *pluginpb.Post {
	out := &pluginpb.Post{Text: p.Text, Link: p.Link, Language: p.Language}
	for _, m := range p.Media {
		out.Media = append(out.Media, &pluginpb.Media{Id: m.ID, MimeType: m.MimeType, Size: m.Size,
			Width: int32(m.Width), Height: int32(m.Height), Alt: m.Alt, Data: m.Data})
	}
	return out
}

func postFromProto(p *pluginpb.Post) Post {
	out := Post{Text: p.GetText(), Link: p.GetLink(), Language: p.GetLanguage()}
	for _, m := range p.GetMedia() {
		out.Media = append(out.Media, Media{ID: m.GetId(), MimeType: m.GetMimeType(), Size: m.GetSize(),
			Width: int(m.GetWidth()), Height: int(m.GetHeight()), Alt: m.GetAlt(), Data: m.GetData()})
	}
	return out
}

func receiptToProto(r Receipt) *pluginpb.Receipt {
	out := &pluginpb.Receipt{RemoteId: r.RemoteID, Url: r.URL}
	if !r.PublishedAt.IsZero() {
		out.PublishedAtUnixNano = r.PublishedAt.UnixNano()
	}
	return out
}

func receiptFromProto(r *pluginpb.Receipt) Receipt {
	out := Receipt{RemoteID: r.GetRemoteId(), URL: r.GetUrl()}
	if ns := r.GetPublishedAtUnixNano(); ns != 0 {
		out.PublishedAt = time.Unix(0, ns).UTC()
	}
	return out
}

func problemsToProto(ps []Problem) []*pluginpb.Problem {
	out := make([]*pluginpb.Problem, 0, len(ps))
	for _, p := range ps {
		out = append(out, &pluginpb.Problem{Field: p.Field, Message: p.Message})
	}
	return out
}

func problemsFromProto(ps []*pluginpb.Problem) []Problem {
	var out []Problem
	for _, p := range ps {
		out = append(out, Problem{Field: p.GetField(), Message: p.GetMessage()})
	}
	return out
}

func trendsToProto(ts []Trend) []*pluginpb.Trend {
	out := make([]*pluginpb.Trend, 0, len(ts))
	for _, t := range ts {
		out = append(out, &pluginpb.Trend{Title: t.Title, Url: t.URL, Summary: t.Summary, Language: t.Language})
	}
	return out
}

func trendsFromProto(ts []*pluginpb.Trend) []Trend {
	var out []Trend
	for _, t := range ts {
		out = append(out, Trend{Title: t.GetTitle(), URL: t.GetUrl(), Summary: t.GetSummary(), Language: t.GetLanguage()})
	}
	return out
}

func credentialsToProto(c Credentials) *pluginpb.Credentials {
	out := &pluginpb.Credentials{AccessToken: c.AccessToken, RefreshToken: c.RefreshToken, Subject: c.Subject, Extra: c.Extra}
	if !c.ExpiresAt.IsZero() {
		out.ExpiresAtUnixNano = c.ExpiresAt.UnixNano()
	}
	if !c.RefreshExpiresAt.IsZero() {
		out.RefreshExpiresAtUnixNano = c.RefreshExpiresAt.UnixNano()
	}
	return out
}

func credentialsFromProto(c *pluginpb.Credentials) Credentials {
	out := Credentials{AccessToken: c.GetAccessToken(), RefreshToken: c.GetRefreshToken(), Subject: c.GetSubject()}
	if len(c.GetExtra()) > 0 {
		out.Extra = c.GetExtra()
	}
	if ns := c.GetExpiresAtUnixNano(); ns != 0 {
		out.ExpiresAt = time.Unix(0, ns).UTC()
	}
	if ns := c.GetRefreshExpiresAtUnixNano(); ns != 0 {
		out.RefreshExpiresAt = time.Unix(0, ns).UTC()
	}
	return out
}
