package mastodon_test

import (
	"testing"

	"github.com/tact-hq/tact/plugins/internal/plugintest"
	"github.com/tact-hq/tact/plugins/mastodon/mastodontest"
	"github.com/tact-hq/tact/plugins/sdk"
)

func TestTrendsOffersTrendingLinks(t *testing.T) {
	srv := newServer(t)
	srv.TrendingLinks = []mastodontest.TrendingLink{
		{URL: "https://news.example/crash", Title: "Airliner crashes near Lisbon", Description: "180 aboard.", Language: "en", Type: "link"},
		{URL: "https://news.example/untitled", Title: "  ", Type: "link"},
	}
	trends, err := configured(t, srv, nil).Trends(plugintest.Context(t))
	if err != nil {
		t.Fatal(err)
	}
	want := sdk.Trend{Title: "Airliner crashes near Lisbon", URL: "https://news.example/crash", Summary: "180 aboard.", Language: "en"}
	if len(trends) != 1 || trends[0] != want {
		t.Fatalf("Trends = %+v, want only %+v (a card without a title is no headline)", trends, want)
	}
}

func TestTrendsOnAServerWithoutThemIsPermanent(t *testing.T) {
	srv := newServer(t) // TrendingLinks nil: 404, as GoToSocial answers
	_, err := configured(t, srv, nil).Trends(plugintest.Context(t))
	plugintest.WantKind(t, err, sdk.Permanent, "no trending links")
}
