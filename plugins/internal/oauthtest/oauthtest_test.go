package oauthtest_test

import (
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/tact-hq/tact/plugins/internal/oauthtest"
)

func TestS256IsUnpaddedBase64urlOfSHA256(t *testing.T) {
	got := oauthtest.S256("abc")
	sum, err := base64.RawURLEncoding.DecodeString(got)
	// FIPS 180-2's SHA-256 of "abc".
	if err != nil || hex.EncodeToString(sum) != "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" {
		t.Errorf("S256(abc) = %q (%v)", got, err)
	}
}

func TestTokensDiffer(t *testing.T) {
	a, b := oauthtest.Token(24), oauthtest.Token(24)
	if a == b || len(a) != 32 || strings.ContainsAny(a, "+/=") {
		t.Errorf("Token(24) = %q, %q: want two different 32-character base64url tokens", a, b)
	}
}

func TestRedirectBackKeepsTheAppsQueryAndState(t *testing.T) {
	for _, tc := range []struct{ redirect, state, fragment, want string }{
		{"https://app.example/cb", "s1", "", "https://app.example/cb?code=c&state=s1"},
		{"https://app.example/cb?x=1", "", "#_=_", "https://app.example/cb?x=1&code=c#_=_"},
	} {
		w := httptest.NewRecorder()
		oauthtest.RedirectBack(w, httptest.NewRequest("GET", "/", nil), tc.redirect, tc.state, url.Values{"code": {"c"}}, tc.fragment)
		if w.Code != http.StatusFound || w.Header().Get("Location") != tc.want {
			t.Errorf("%d %q, want 302 %q", w.Code, w.Header().Get("Location"), tc.want)
		}
	}
}

func TestPressSubmitsThePageAndFollowsNoRedirect(t *testing.T) {
	page := oauthtest.Page{Fake: "faketest", Page: "the page", Form: "the form"}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method == http.MethodGet && r.URL.Query().Get("refuse") != "":
			http.Error(w, "unknown app", http.StatusBadRequest)
		case r.Method == http.MethodGet && r.URL.Query().Get("bounce") != "":
			http.Redirect(w, r, "https://app.example/cb?error=x", http.StatusFound)
		case r.Method == http.MethodGet:
			w.Write([]byte(`<input name="grant" value="a">`))
		case r.FormValue("silent") != "":
		default:
			http.Redirect(w, r, "https://app.example/cb?decision="+r.FormValue("decision")+"&grant="+r.FormValue("grant"), http.StatusFound)
		}
	}))
	defer srv.Close()

	tick := func(body string, form url.Values) {
		if strings.Contains(body, `value="a"`) {
			form.Set("grant", "a")
		}
	}
	got, err := oauthtest.Press(page, srv.URL+"/consent", srv.URL+"/consent", url.Values{"decision": {"allow"}}, tick)
	if err != nil || got != "https://app.example/cb?decision=allow&grant=a" {
		t.Errorf("Press = %q, %v", got, err)
	}
	if got, err := oauthtest.Press(page, srv.URL+"/consent?bounce=1", srv.URL+"/consent", url.Values{}, nil); err != nil || got != "https://app.example/cb?error=x" {
		t.Errorf("a page that redirects at once: %q, %v", got, err)
	}
	if _, err := oauthtest.Press(page, srv.URL+"/consent?refuse=1", srv.URL+"/consent", url.Values{}, nil); err == nil || err.Error() != "faketest: the page answered 400: unknown app" {
		t.Errorf("a refusing page: %v", err)
	}
	if _, err := oauthtest.Press(page, srv.URL+"/consent", srv.URL+"/consent", url.Values{"silent": {"1"}}, nil); err == nil || err.Error() != "faketest: the form did not redirect back" {
		t.Errorf("a form that does not redirect: %v", err)
	}
}
