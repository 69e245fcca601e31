package rules

import "testing"

func TestDefaultPackLoads(t *testing.T) {
	set, err := LoadFiles([]string{"default/*.toml"})
	if err != nil {
		t.Fatalf("default pack: %v", err)
	}
	if set.Len() < 12 {
		t.Fatalf("default pack has %d rules", set.Len())
	}
}
