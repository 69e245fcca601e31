package queue

import (
	"strings"
	"testing"
	"time"
)

func TestCredentialRefreshAt(t *testing.T) {
	issued := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name string
		c    Credential
		want time.Time
	}{
		{"two-hour token: a quarter (30m) before", Credential{Refreshable: true, IssuedAt: issued, ExpiresAt: issued.Add(2 * time.Hour)}, issued.Add(90 * time.Minute)},
		{"twenty-minute token: 10m before", Credential{Refreshable: true, IssuedAt: issued, ExpiresAt: issued.Add(20 * time.Minute)}, issued.Add(10 * time.Minute)},
		{"five-minute token: half way, not at once", Credential{Refreshable: true, IssuedAt: issued, ExpiresAt: issued.Add(5 * time.Minute)}, issued.Add(150 * time.Second)},
		{"60-day token: 15 days before", Credential{Refreshable: true, IssuedAt: issued, ExpiresAt: issued.Add(60 * 24 * time.Hour)}, issued.Add(45 * 24 * time.Hour)},
		{"no refresh token", Credential{IssuedAt: issued, ExpiresAt: issued.Add(time.Hour)}, time.Time{}},
		{"never expires", Credential{Refreshable: true, IssuedAt: issued}, time.Time{}},
		{"needs a person", Credential{Refreshable: true, NeedsPerson: true, IssuedAt: issued, ExpiresAt: issued.Add(time.Hour)}, time.Time{}},
	} {
		if got := tc.c.RefreshAt(); !got.Equal(tc.want) {
			t.Errorf("%s: RefreshAt = %s, want %s", tc.name, got, tc.want)
		}
	}
}

func TestCredentialAttention(t *testing.T) {
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	paris, _ := time.LoadLocation("Europe/Paris")
	for _, tc := range []struct {
		name string
		c    Credential
		want string // "" for none
	}{
		{"fine", Credential{ExpiresAt: now.Add(30 * 24 * time.Hour)}, ""},
		{"never expires", Credential{}, ""},
		{"expires in 6 days, no refresh", Credential{ExpiresAt: now.Add(6 * 24 * time.Hour)}, "the token expires on 8 Mar 2026 10:00 CET (within 7 days): connect the account again"},
		{"refreshed often, refresh token lasts", Credential{Refreshable: true, ExpiresAt: now.Add(time.Hour), RefreshExpiresAt: now.Add(300 * 24 * time.Hour)}, ""},
		{"refresh token ends in 3 days", Credential{Refreshable: true, ExpiresAt: now.Add(time.Hour), RefreshExpiresAt: now.Add(3 * 24 * time.Hour)}, "the token expires on 5 Mar 2026 10:00 CET (within 7 days)"},
		{"expired, no refresh", Credential{ExpiresAt: now.Add(-time.Hour)}, "the token expired on 2 Mar 2026 09:00 CET: posts are held; connect the account again"},
		{"expired, refresh pending", Credential{Refreshable: true, ExpiresAt: now.Add(-time.Hour)}, "posts are held until tact refreshes it"},
		{"refused refresh", Credential{Refreshable: true, NeedsPerson: true, RefreshError: "auth: invalid_grant", ExpiresAt: now.Add(time.Hour)}, "the network refused to refresh the token (auth: invalid_grant): connect the account again"},
	} {
		got := strings.Join(tc.c.Attention(now, paris), "; ")
		if tc.want == "" && got != "" || !strings.Contains(got, tc.want) {
			t.Errorf("%s: Attention = %q, want %q", tc.name, got, tc.want)
		}
	}
}
