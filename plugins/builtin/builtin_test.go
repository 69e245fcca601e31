package builtin

import (
	"slices"
	"strings"
	"testing"
)

func TestRegistry(t *testing.T) {
	names := Names()
	for _, want := range []string{"example", "outbox"} {
		if !slices.Contains(names, want) {
			t.Errorf("Names() = %v, lacks %s", names, want)
		}
	}
	if !slices.IsSorted(names) {
		t.Errorf("Names() = %v, not sorted", names)
	}
	a, ok1 := New("outbox")
	b, ok2 := New("outbox")
	if !ok1 || !ok2 || a == b {
		t.Fatal("New(outbox) must return a fresh instance each time")
	}
	if _, ok := New("nosuch"); ok {
		t.Fatal("New(nosuch) succeeded")
	}
	if err := Serve("nosuch"); err == nil || !strings.Contains(err.Error(), "outbox") {
		t.Fatalf("Serve(nosuch) = %v, want an error listing the built-ins", err)
	}
}
