package xtest

import (
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
)

// noRedirect is a client that shows redirects instead of following them.
func noRedirect() *http.Client {
	return &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func consentURL(s *Server) string {
	q := url.Values{"response_type": {"code"}, "client_id": {s.ClientID}, "redirect_uri": {"http://127.0.0.1:9/cb"},
		"scope": {strings.Join(AllScopes, " ")}, "state": {"st"}, "code_challenge": {Challenge("v")}, "code_challenge_method": {"S256"}}
	return s.URL + "/i/oauth2/authorize?" + q.Encode()
}

// A browser on the consent page sees the app's request and an Authorize button whose form
// redirects to the callback with a code and the state.
func TestConsentPage(t *testing.T) {
	s := New()
	defer s.Close()
	resp, err := noRedirect().Get(consentURL(s))
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(page), `id="allow"`) || !strings.Contains(string(page), "@"+s.Username) {
		t.Fatalf("consent page %d: %s", resp.StatusCode, page)
	}
	resp, err = noRedirect().PostForm(consentURL(s), url.Values{"approve": {"1"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	back, _ := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusFound || back.Host != "127.0.0.1:9" || back.Query().Get("state") != "st" || back.Query().Get("code") == "" {
		t.Fatalf("approve answered %d, Location %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	bad := strings.Replace(consentURL(s), "S256", "plain", 1)
	if resp, _ := noRedirect().Get(bad); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("a plain code challenge answered %d", resp.StatusCode)
	}
	s.AutoApprove = true
	if resp, _ := noRedirect().Get(consentURL(s)); resp.StatusCode != http.StatusFound {
		t.Errorf("AutoApprove answered %d", resp.StatusCode)
	}
}

// Every answer carries X's rate-limit headers; past the limit, 429 until the reset.
func TestRateLimits(t *testing.T) {
	s := New()
	defer s.Close()
	now := time.Unix(1_900_000_000, 0)
	s.Now = func() time.Time { return now }
	s.Limits = map[string]int{"GET /2/users/me": 2}
	tok := s.IssueTokens()
	get := func() *http.Response {
		req, _ := http.NewRequest("GET", s.URL+"/2/users/me", nil)
		req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	for i, want := range []int{200, 200, 429} {
		resp := get()
		if resp.StatusCode != want || resp.Header.Get("x-rate-limit-limit") != "2" {
			t.Fatalf("request %d: %d %v", i, resp.StatusCode, resp.Header)
		}
		if reset, _ := strconv.ParseInt(resp.Header.Get("x-rate-limit-reset"), 10, 64); reset != now.Add(15*time.Minute).Unix() {
			t.Fatalf("x-rate-limit-reset %d", reset)
		}
	}
	now = now.Add(15 * time.Minute)
	if resp := get(); resp.StatusCode != 200 {
		t.Fatalf("after the reset: %d", resp.StatusCode)
	}
}
