package sdk

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/hashicorp/go-plugin"
)

// fakeNetwork records what reached it and answers from fields.
type fakeNetwork struct {
	gotPost     Post
	gotKey      string
	gotSettings map[string]string
	err         error
}

func (f *fakeNetwork) Describe(context.Context) (Description, error) {
	return Description{Name: "fake", Version: "9.9", MaxLength: 300, Counting: CountGraphemes, MaxMedia: 4,
		MediaTypes: []string{"image/png"}, Capabilities: []string{"lookup"}, SettingsKeys: []string{"token"}, SecretSetting: []string{"token"}}, f.err
}

func (f *fakeNetwork) Configure(_ context.Context, s map[string]string) error {
	f.gotSettings = s
	return f.err
}

func (f *fakeNetwork) Validate(_ context.Context, p Post) ([]Problem, error) {
	return []Problem{{Field: "text", Message: "too long"}}, f.err
}

func (f *fakeNetwork) Publish(_ context.Context, p Post, key string) (Receipt, error) {
	f.gotPost, f.gotKey = p, key
	return Receipt{RemoteID: "r1", URL: "https://fake/r1", PublishedAt: time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)}, f.err
}

func (f *fakeNetwork) Lookup(_ context.Context, key string) (Receipt, bool, error) {
	if key == "known" {
		return Receipt{RemoteID: "r1"}, true, f.err
	}
	return Receipt{}, false, f.err
}

func (f *fakeNetwork) Delete(context.Context, string) error { return f.err }

type trendingNetwork struct{ *fakeNetwork }

func (trendingNetwork) Trends(context.Context) ([]Trend, error) {
	return []Trend{{Title: "t", URL: "u", Summary: "s", Language: "en"}}, nil
}

// dial serves impl over a real gRPC connection (go-plugin's test harness) and returns the
// daemon-side client.
func dial(t *testing.T, impl Network) *Client {
	t.Helper()
	client, _ := plugin.TestPluginGRPCConn(t, false, map[string]plugin.Plugin{PluginKey: &GRPCPlugin{Impl: impl}})
	t.Cleanup(func() { client.Close() })
	raw, err := client.Dispense(PluginKey)
	if err != nil {
		t.Fatal(err)
	}
	return raw.(*Client)
}

// Every type survives the trip through protobuf unchanged.
func TestRoundTrip(t *testing.T) {
	f := &fakeNetwork{}
	c := dial(t, f)
	ctx := context.Background()

	d, err := c.Describe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := f.Describe(ctx)
	if !reflect.DeepEqual(d, want) || c.APIVersion() != APIVersion {
		t.Fatalf("Describe = %+v (api %d), want %+v (api %d)", d, c.APIVersion(), want, APIVersion)
	}
	if err := c.Configure(ctx, map[string]string{"token": "s3cret"}); err != nil || f.gotSettings["token"] != "s3cret" {
		t.Fatalf("Configure: %v, plugin got %v", err, f.gotSettings)
	}
	post := Post{Text: "héllo", Link: "https://l", Language: "fr", Media: []Media{{ID: "ab12", MimeType: "image/png", Size: 3, Width: 1, Height: 2, Alt: "a cat", Data: []byte{1, 2, 3}}}}
	r, err := c.Publish(ctx, post, "key-1")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(f.gotPost, post) || f.gotKey != "key-1" {
		t.Fatalf("plugin got %+v %q, want %+v key-1", f.gotPost, f.gotKey, post)
	}
	if r.RemoteID != "r1" || r.URL != "https://fake/r1" || !r.PublishedAt.Equal(time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)) {
		t.Fatalf("receipt = %+v", r)
	}
	if ps, err := c.Validate(ctx, post); err != nil || len(ps) != 1 || ps[0].Field != "text" {
		t.Fatalf("Validate = %v, %v", ps, err)
	}
	if r, found, err := c.Lookup(ctx, "known"); err != nil || !found || r.RemoteID != "r1" {
		t.Fatalf("Lookup(known) = %+v %v %v", r, found, err)
	}
	if _, found, err := c.Lookup(ctx, "unknown"); err != nil || found {
		t.Fatalf("Lookup(unknown) = %v %v", found, err)
	}
	if _, err := c.Publish(ctx, post, ""); KindOf(err) != Permanent {
		t.Fatalf("Publish without a key = %v, want permanent", err)
	}
}

// Typed errors keep kind, retry-after and the author's context; untyped ones arrive
// untyped (and count as retryable).
func TestErrorsCrossTheWire(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		err   error
		kind  ErrorKind
		typed bool
		text  string
	}{
		{RateLimit(90*time.Second, "slow down"), RateLimited, true, "rate_limited (retry after 1m30s): slow down"},
		{Errorf(Auth, "token revoked"), Auth, true, "auth: token revoked"},
		{fmt.Errorf("POST /statuses: %w", Errorf(Permanent, "422 too long")), Permanent, true, "permanent: POST /statuses: 422 too long"},
		{errors.New("connection reset"), Retryable, false, "connection reset"},
	} {
		c := dial(t, &fakeNetwork{err: tc.err})
		_, err := c.Publish(ctx, Post{Text: "x"}, "k")
		var typed *Error
		if KindOf(err) != tc.kind || errors.As(err, &typed) != tc.typed || err.Error() != tc.text {
			t.Errorf("plugin error %v arrived as %q (kind %s, typed %v), want %q (kind %s, typed %v)",
				tc.err, err, KindOf(err), typed != nil, tc.text, tc.kind, tc.typed)
		}
	}
}

// Trends is an add-on: a network without Trender answers Permanent, one with it answers.
func TestTrendsAddOn(t *testing.T) {
	ctx := context.Background()
	if _, err := dial(t, &fakeNetwork{}).Trends(ctx); KindOf(err) != Permanent {
		t.Fatalf("Trends on a network without them = %v, want permanent", err)
	}
	ts, err := dial(t, trendingNetwork{&fakeNetwork{}}).Trends(ctx)
	if err != nil || len(ts) != 1 || ts[0] != (Trend{Title: "t", URL: "u", Summary: "s", Language: "en"}) {
		t.Fatalf("Trends = %v, %v", ts, err)
	}
}
