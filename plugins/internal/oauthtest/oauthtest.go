// Package oauthtest holds what the OAuth parts of the built-in plugins' fakes
// (mastodontest, linkedintest, xtest, facebooktest) share: the PKCE S256 check, random
// tokens, the redirect back to the app, and a browser pressing a consent page's button.
// What each network answers (its paths, parameters, error codes and bodies) stays in its
// own fake, which must speak that network's protocol.
package oauthtest

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// S256 is the PKCE code challenge of verifier: base64url(SHA-256(verifier)), unpadded
// (RFC 7636).
func S256(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// Token is n random bytes in unpadded base64url: a code or token nobody can guess.
func Token(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// RedirectBack answers with a 302 to redirect carrying v and the request's state (when it
// had one), appended to a query redirect may already have; fragment (such as Facebook's
// "#_=_") goes last.
func RedirectBack(w http.ResponseWriter, r *http.Request, redirect, state string, v url.Values, fragment string) {
	if state != "" {
		v.Set("state", state)
	}
	sep := "?"
	if strings.Contains(redirect, "?") {
		sep = "&"
	}
	http.Redirect(w, r, redirect+sep+v.Encode()+fragment, http.StatusFound)
}

// Page names a consent page in Press's errors: Fake is the fake's package ("linkedintest"),
// Page and Form what the network calls the page and its form ("the consent page", "the
// consent form").
type Page struct{ Fake, Page, Form string }

// Press is a browser on the consent page at pageURL: it loads it (a redirect at once is
// the page's refusal, returned as where the browser goes), then submits form to postURL —
// tick may add what the person ticks, from the page's HTML — and returns where the
// answer sends the browser. An error means the page itself refused the request.
func Press(p Page, pageURL, postURL string, form url.Values, tick func(page string, form url.Values)) (string, error) {
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	page, err := client.Get(pageURL)
	if err != nil {
		return "", err
	}
	body, _ := io.ReadAll(page.Body)
	page.Body.Close()
	if loc := page.Header.Get("Location"); loc != "" {
		return loc, nil
	}
	if page.StatusCode != http.StatusOK {
		return "", fmt.Errorf("%s: %s answered %d: %s", p.Fake, p.Page, page.StatusCode, strings.TrimSpace(string(body)))
	}
	if tick != nil {
		tick(string(body), form)
	}
	resp, err := client.PostForm(postURL, form)
	if err != nil {
		return "", err
	}
	resp.Body.Close()
	loc := resp.Header.Get("Location")
	if loc == "" {
		return "", errors.New(p.Fake + ": " + p.Form + " did not redirect back")
	}
	return loc, nil
}
