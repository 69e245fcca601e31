// Package setting reads the settings the built-in network plugins share the shape of.
package setting

import (
	"net/url"
	"strings"

	"github.com/tact-hq/tact/config/redact"
	"github.com/tact-hq/tact/plugins/sdk"
)

// BaseURL reads settings[key], an http(s) base URL of network's API (tests point it at a
// fake), without a trailing slash; def when the setting is empty. A bad value is Permanent
// and shown redacted: a value read from env: may be a secret (docs/operations.md,
// "Secrets").
func BaseURL(network string, settings map[string]string, key, def string) (string, error) {
	v := strings.TrimRight(strings.TrimSpace(settings[key]), "/")
	if v == "" {
		return def, nil
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return "", sdk.Errorf(sdk.Permanent, "%s: setting %q (%s) is not an http:// or https:// URL with a host: leave it out to use %s", network, key, redact.SecretURL(v), def)
	}
	return v, nil
}
