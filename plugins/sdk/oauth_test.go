package sdk

import (
	"reflect"
	"testing"
	"time"
)

func TestCredentialSettingsRoundTrip(t *testing.T) {
	c := Credentials{AccessToken: "at", RefreshToken: "rt", Subject: "urn:li:person:1",
		ExpiresAt: time.Date(2027, 1, 31, 9, 0, 0, 0, time.UTC), Extra: map[string]string{"page_id": "42"}}
	s := CredentialSettings(c)
	if s["page_id"] != "42" || s[SettingExpiresAt] != "2027-01-31T09:00:00Z" || s[SettingRefreshExpiresAt] != "" {
		t.Fatalf("settings = %v", s)
	}
	back, err := CredentialsFrom(s)
	c.Extra = nil
	if err != nil || !reflect.DeepEqual(back, c) {
		t.Fatalf("CredentialsFrom = %+v, %v; want %+v", back, err, c)
	}
	if _, err := CredentialsFrom(map[string]string{SettingExpiresAt: "tomorrow"}); KindOf(err) != Permanent {
		t.Fatalf("a bad time: %v", err)
	}
}
