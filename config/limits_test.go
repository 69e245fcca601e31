package config

import (
	"strings"
	"testing"
	"time"
)

func TestCampaignLimitsDefaultsAndValues(t *testing.T) {
	c, err := Parse("tact.toml", []byte("[daemon]\nlisten = \"127.0.0.1:1\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	if l := c.Daemon.Limits(); l.MaxLead != 90*24*time.Hour || l.MaxOpenPosts != 10000 {
		t.Fatalf("defaults: %+v", l)
	}
	c, err = Parse("tact.toml", []byte("[daemon]\nmax_lead = \"336h\"\nmax_open_posts_per_campaign = 500\n"))
	if err != nil {
		t.Fatal(err)
	}
	if l := c.Daemon.Limits(); l.MaxLead != 336*time.Hour || l.MaxOpenPosts != 500 {
		t.Fatalf("set: %+v", l)
	}
}

// TestBadLimitsAndZonesRefusedWithLines: values that would be silently replaced, or that
// make no sense, are refused with tact.toml:LINE and what to write.
func TestBadLimitsAndZonesRefusedWithLines(t *testing.T) {
	for _, tc := range []struct {
		name, body, want string
	}{
		{"lead too short", "[daemon]\nlisten = \"127.0.0.1:1\"\nmax_lead = \"10m\"\n", "tact.toml:3: max_lead 10m in [daemon] must be between 1h and 43800h"},
		{"lead negative", "[daemon]\nmax_lead = \"-48h\"\n", "tact.toml:2: max_lead -48h in [daemon] must be between"},
		{"lead zero", "[daemon]\n\nmax_lead = \"0s\"\n", "tact.toml:3: max_lead in [daemon] must be at least 1h; leave the key out for the default, 2160h"},
		{"lead too long", "[daemon]\nmax_lead = \"100000h\"\n", "tact.toml:2: max_lead 100000h in [daemon] must be between"},
		{"open posts zero", "[daemon]\nmax_open_posts_per_campaign = 0\n", "tact.toml:2: max_open_posts_per_campaign in [daemon] must be at least 1"},
		{"open posts negative", "[daemon]\nmax_open_posts_per_campaign = -5\n", "tact.toml:2: max_open_posts_per_campaign -5 in [daemon] must be between 1 and 1000000; the default is 10000"},
		{"open posts too many", "[daemon]\nmax_open_posts_per_campaign = 50000000\n", "tact.toml:2: max_open_posts_per_campaign 50000000"},
		{"open posts not a number", "[daemon]\nmax_open_posts_per_campaign = \"many\"\n", "tact.toml:2:"},
		{"zone Local", "[daemon]\ntimezone = \"Local\"\n", `tact.toml:2: timezone "Local" in [daemon] is the host's zone`},
		{"zone empty", "[daemon]\nlisten = \"127.0.0.1:1\"\ntimezone = \"\"\n", `tact.toml:3: timezone in [daemon] is empty: name an IANA time zone (e.g. "Europe/Paris")`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("tact.toml", []byte(tc.body))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error containing %q", err, tc.want)
			}
		})
	}
}
