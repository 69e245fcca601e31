package sdk

import (
	"fmt"
	"slices"
	"sort"
	"strings"
)

// CheckSettingKeys refuses settings that Configure does not understand, so a typo in
// tact.toml is never silently ignored. It returns nil when every key of settings is in
// known, else a Permanent error that starts with network and names the unknown keys and
// the known ones: `mastodon: unknown setting "servr": the settings are server, token`.
func CheckSettingKeys(network string, settings map[string]string, known []string) error {
	var unknown []string
	for k := range settings {
		if !slices.Contains(known, k) {
			unknown = append(unknown, fmt.Sprintf("%q", k))
		}
	}
	if len(unknown) == 0 {
		return nil
	}
	sort.Strings(unknown)
	noun := "setting"
	if len(unknown) > 1 {
		noun = "settings"
	}
	return Errorf(Permanent, "%s: unknown %s %s: the settings are %s", network, noun, strings.Join(unknown, ", "), strings.Join(known, ", "))
}
