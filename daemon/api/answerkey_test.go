package api

import (
	"reflect"
	"testing"
	"time"

	"github.com/tact-hq/tact/daemon/queue"
)

// Every field of queue.PostFilter changes what is listed, so every field must be in the
// key of a kept answer: a field added to the filter but not to the key would give one
// listing's answer to another.
func TestPostsKeyCoversEveryFilterField(t *testing.T) {
	base := postsKey(queue.PostFilter{})
	typ := reflect.TypeFor[queue.PostFilter]()
	for i := range typ.NumField() {
		var f queue.PostFilter
		v := reflect.ValueOf(&f).Elem().Field(i)
		switch v.Interface().(type) {
		case int, int64:
			v.SetInt(7)
		case string:
			v.SetString("x")
		case time.Time:
			v.Set(reflect.ValueOf(time.Date(2026, 5, 1, 8, 0, 0, 0, time.UTC)))
		case []queue.PostState:
			v.Set(reflect.ValueOf([]queue.PostState{queue.PostPending}))
		default:
			t.Fatalf("PostFilter.%s has a type this test does not know (%s): teach postsKey and this test about it", typ.Field(i).Name, v.Type())
		}
		if postsKey(f) == base {
			t.Errorf("PostFilter.%s is not part of postsKey", typ.Field(i).Name)
		}
	}
	if postsKey(queue.PostFilter{DueAfter: time.Unix(0, 5)}) == postsKey(queue.PostFilter{DueBefore: time.Unix(0, 5)}) {
		t.Error("due_after and due_before give the same key")
	}
}
