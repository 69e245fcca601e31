package wordpress_test

import (
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/tact-hq/tact/plugins/internal/plugintest"
	"github.com/tact-hq/tact/plugins/sdk"
	"github.com/tact-hq/tact/plugins/wordpress"
)

// realWordPress is the settings of the real WordPress named by TACT_TEST_WORDPRESS
// (http://USER:APP_PASSWORD@HOST:PORT, what .ci/wordpress.sh prints), or a skip.
func realWordPress(t *testing.T) map[string]string {
	t.Helper()
	raw := os.Getenv("TACT_TEST_WORDPRESS")
	if raw == "" {
		t.Skip("TACT_TEST_WORDPRESS is not set: no real WordPress to test against (.ci/run starts one with .ci/wordpress.sh; sudo .ci/wordpress.sh >/tmp/wp.url && export TACT_TEST_WORDPRESS=$(cat /tmp/wp.url) to run this by hand)")
	}
	u, err := url.Parse(raw)
	if err != nil || u.User == nil || u.Host == "" {
		t.Fatalf("TACT_TEST_WORDPRESS is not http://USER:APP_PASSWORD@HOST:PORT")
	}
	pass, _ := u.User.Password()
	return map[string]string{"site": u.Scheme + "://" + u.Host, "user": u.User.Username(), "app_password": pass}
}

// Against a real WordPress: a post with its featured image, alt text and category goes
// out once, is found by Lookup, is not sent again for the same key, and goes to the trash.
func TestRealWordPressPublishLookupDelete(t *testing.T) {
	s := realWordPress(t)
	s["categories"] = "Uncategorized"
	n := wordpress.New()
	ctx := plugintest.Context(t)
	if err := n.Configure(ctx, s); err != nil {
		t.Fatal(err)
	}
	key := "real-" + t.Name() + "-" + randomKey(t)
	post := sdk.Post{Text: "A real post\n\nWith <markup> & a link", Link: "https://shop.example/real",
		Media: []sdk.Media{plugintest.Attachment(pngOf(t, 3, 2), "image/png", "three by two")}}
	r, err := n.Publish(ctx, post, key)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(r.URL, wordpress.Slug(key)) || r.PublishedAt.IsZero() {
		t.Errorf("receipt %+v", r)
	}
	got, found, err := n.Lookup(ctx, key)
	if err != nil || !found || got != r {
		t.Fatalf("Lookup = %+v, %v, %v; want %+v", got, found, err, r)
	}
	again, err := n.Publish(ctx, post, key)
	if err != nil || again != r {
		t.Fatalf("Publish again = %+v, %v", again, err)
	}
	if _, found, err := n.Lookup(ctx, key+"-never"); found || err != nil {
		t.Fatalf("Lookup of a key never sent = %v, %v", found, err)
	}
	if err := n.Delete(ctx, r.RemoteID); err != nil {
		t.Fatal(err)
	}
	if err := n.Delete(ctx, r.RemoteID); err != nil {
		t.Fatalf("Delete of a post in the trash: %v", err)
	}
	if _, found, _ := n.Lookup(ctx, key); found {
		t.Fatal("a trashed post is still found")
	}
	bad := map[string]string{"site": s["site"], "user": s["user"], "app_password": "abcd abcd abcd abcd abcd abcd"}
	plugintest.WantKind(t, wordpress.New().Configure(ctx, bad), sdk.Auth, "Application Password")
}

func randomKey(t *testing.T) string {
	t.Helper()
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}
