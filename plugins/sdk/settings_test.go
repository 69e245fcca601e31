package sdk

import "testing"

func TestCheckSettingKeys(t *testing.T) {
	known := []string{"server", "token"}
	if err := CheckSettingKeys("mastodon", map[string]string{"server": "x", "token": "y"}, known); err != nil {
		t.Fatalf("known settings refused: %v", err)
	}
	if err := CheckSettingKeys("mastodon", nil, known); err != nil {
		t.Fatalf("no settings refused: %v", err)
	}
	for _, tc := range []struct {
		settings map[string]string
		want     string
	}{
		{map[string]string{"server": "x", "servr": "y"}, `mastodon: unknown setting "servr": the settings are server, token`},
		{map[string]string{"tokn": "a", "servr": "b", "server": "c"}, `mastodon: unknown settings "servr", "tokn": the settings are server, token`},
	} {
		err := CheckSettingKeys("mastodon", tc.settings, known)
		var e *Error
		if err == nil || KindOf(err) != Permanent {
			t.Fatalf("CheckSettingKeys(%v) = %v, want a permanent error", tc.settings, err)
		}
		if e = err.(*Error); e.Message != tc.want {
			t.Errorf("CheckSettingKeys(%v) says %q, want %q", tc.settings, e.Message, tc.want)
		}
	}
}
