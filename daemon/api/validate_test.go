package api_test

import (
	"context"
	"strings"
	"testing"

	"github.com/tact-hq/tact/daemon/api"
	"github.com/tact-hq/tact/daemon/clock"
	"github.com/tact-hq/tact/daemon/queue"
	"github.com/tact-hq/tact/plugins/sdk"
)

// refusingValidator answers as the plugin host does for a post it cannot send to a plugin
// (a text protobuf cannot encode): a permanent error.
type refusingValidator struct{}

func (refusingValidator) Validate(context.Context, []string, sdk.Post) ([]string, error) {
	return nil, sdk.Errorf(sdk.Permanent, `account "brand-bsky": the call could not be encoded for the plugin`)
}

// TestPermanentValidateErrorIsNotTryAgain: a plugin that refuses for good to check a post
// is a 400 with its reason, not a 503 "try again" that would never succeed.
func TestPermanentValidateErrorIsNotTryAgain(t *testing.T) {
	e := newEnv(t, func(o *api.Options, _ *clock.Fake) { o.Validator = refusingValidator{} })
	e.campaign("spring", nil)
	r := e.do(queue.RoleMarketer, "POST", "/api/v1/posts", map[string]any{"campaign": "spring", "text": "hello", "at": "+1h"})
	if r.status != 400 || !strings.Contains(r.str("error"), "could not be encoded") || strings.Contains(r.str("error"), "try again") {
		t.Fatalf("%d %s, want 400 with the plugin's reason", r.status, r.raw)
	}
}
