package api

import (
	"bytes"
	"encoding/json"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/tact-hq/tact/daemon/queue"
)

// indentCases are compact JSON documents with what the indenter must get right: empty
// objects and arrays, nesting, quotes, backslashes and brackets inside strings, escapes.
var indentCases = []string{
	`{}`, `[]`, `""`, `0`, `null`, `true`,
	`{"a":[],"b":{},"c":[{}],"d":[[],[[]]]}`,
	`{"s":"a \"quoted\" {word}, [x]: y","t":"back\\slash\\","u":"\\\"","v":"\u003cb\u003e \u0026"}`,
	`[1,-2.5e10,"x",true,false,null,{"k":"v"}]`,
	`{"nested":{"deeper":{"deepest":[1,{"a":"b"}]}},"after":"end"}`,
	`{"key with : and ,":"value with } and ]","é":"ünïcödé ✓"}`,
}

func checkIndent(t *testing.T, compact []byte) {
	t.Helper()
	var want bytes.Buffer
	if err := json.Indent(&want, compact, "", "  "); err != nil {
		t.Fatalf("json.Indent(%s): %v", compact, err)
	}
	if got := appendIndented(nil, compact); !bytes.Equal(got, want.Bytes()) {
		t.Fatalf("appendIndented(%s):\n%s\nwant (json.Indent):\n%s", compact, got, want.Bytes())
	}
}

func TestAppendIndentedMatchesJSONIndent(t *testing.T) {
	for _, c := range indentCases {
		checkIndent(t, []byte(c))
	}
	// A page of posts as the API answers it, with everything a post can carry.
	now := time.Date(2026, 3, 1, 9, 30, 0, 0, time.UTC)
	p := &queue.Post{ID: 7, CampaignID: 2, Campaign: "spring <sale> & more", Text: "line one\nline \"two\"\t\\ end",
		Link: "https://example.com/?a=1&b=2", Media: []string{"a.png"}, Accounts: []string{"x", "y"}, DueAt: now,
		State: queue.PostPending, Flags: []string{"flag: [1]"}, Problems: []string{}, Version: 3, CreatedAt: now, UpdatedAt: now,
		Deliveries: []*queue.Delivery{{ID: 1, PostID: 7, Account: "x", State: queue.DeliveryWaiting, IdempotencyKey: "tact-7-x-00"}}}
	page := PostList{Items: []PostView{{Post: p, TimeZone: "Europe/Paris", Warnings: []string{"incident {3}: \"storm\""}}, {Post: &queue.Post{}}}, Next: "abc="}
	b, err := json.Marshal(page)
	if err != nil {
		t.Fatal(err)
	}
	checkIndent(t, b)
}

// TestWriteJSONIsEncoderOutput: writeJSON answers exactly what json.Encoder with a
// two-space indent wrote before it (HTML escaped, final newline).
func TestWriteJSONIsEncoderOutput(t *testing.T) {
	v := map[string]any{"html": "<a href=\"x\">&</a>", "list": []int{1, 2}, "empty": []string{}, "obj": map[string]string{}}
	var want bytes.Buffer
	enc := json.NewEncoder(&want)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	writeJSON(rec, 201, v)
	if rec.Code != 201 || rec.Body.String() != want.String() {
		t.Fatalf("writeJSON wrote %d %q, want 201 %q", rec.Code, rec.Body.String(), want.String())
	}
}

func FuzzAppendIndented(f *testing.F) {
	for _, c := range indentCases {
		f.Add([]byte(c))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		if !json.Valid(in) {
			return
		}
		// json.Marshal's output is compact JSON: that is the indenter's input.
		var compact bytes.Buffer
		if err := json.Compact(&compact, in); err != nil {
			t.Fatal(err)
		}
		checkIndent(t, compact.Bytes())
	})
}
