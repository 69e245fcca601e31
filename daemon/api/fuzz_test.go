package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"testing"
	"unicode/utf8"

	"github.com/tact-hq/tact/daemon/queue"
)

// fuzzRoutes are the routes that read a request body, with the content type sent.
var fuzzRoutes = []struct{ method, path, ctype string }{
	{"POST", "/api/v1/campaigns", "application/json"},
	{"PATCH", "/api/v1/campaigns/spring", "application/json"},
	{"POST", "/api/v1/campaigns/spring/pause", "application/json"},
	{"POST", "/api/v1/campaigns/spring/resume", "application/json"},
	{"POST", "/api/v1/campaigns/pause-all", "application/json"},
	{"POST", "/api/v1/posts", "application/json"},
	{"POST", "/api/v1/posts/import", "application/json"},
	{"POST", "/api/v1/posts/import", "text/csv"},
	{"POST", "/api/v1/posts/import", ""},
	{"POST", "/api/v1/posts/approve", "application/json"},
	{"PATCH", "/api/v1/posts/1", "application/json"},
	{"POST", "/api/v1/posts/1/approve", "application/json"},
	{"POST", "/api/v1/posts/1/reject", "application/json"},
	{"POST", "/api/v1/posts/1/hold", "application/json"},
	{"POST", "/api/v1/incidents", "application/json"},
	{"POST", "/api/v1/context", "application/json"},
	{"POST", "/api/v1/users", "application/json"},
	{"POST", "/api/v1/rules/preview", "application/json"},
}

// FuzzAPIJSON sends arbitrary bodies to the routes that decode one, through the real
// handler on a real SQLite store. Bad input must never be a 500: every refusal is a 4xx
// (or a 503 for a service this deployment lacks) with a JSON body saying what is wrong,
// and every success is JSON.
func FuzzAPIJSON(f *testing.F) {
	for i, r := range fuzzRoutes {
		switch {
		case r.ctype == "text/csv" || r.ctype == "":
			f.Add(uint8(i), []byte("spring,+2h,Tulips are in\nspring,2030-05-01 09:00,\"Quoted, text\",brand-mastodon\n"))
		case r.path == "/api/v1/posts/import":
			f.Add(uint8(i), []byte(`[{"campaign":"spring","text":"Hi","at":"+1h"},{"campaign":"nope"}]`))
		default:
			f.Add(uint8(i), []byte(`{"name":"summer","accounts":["brand-mastodon"],"topics":["travel"],"campaign":"spring","text":"Hello","at":"+1h","reason":"r","ids":[1],"rule":"x","title":"t","role":"viewer","version":1}`))
		}
	}
	f.Add(uint8(0), []byte(`{"name": 12}`))
	f.Add(uint8(5), []byte(`{"campaign":"spring","text":"x","at":"2020-01-01T00:00:00Z","accounts":["ghost"],"link":"javascript:alert(1)"}`))
	f.Add(uint8(10), []byte(`{"text":null,"at":"+-1h","version":-3}`))
	f.Add(uint8(6), []byte(`[{"campaign":"spring","text":"x","at":"+1h","draft":"yes"}] trailing`))
	f.Add(uint8(7), []byte("campaign,at,text,campaign\n"))
	f.Add(uint8(1), []byte(`{"timezone":"Mars/Base","schedule":"61 * * * *","approval":"sometimes","veto":"-2h"}`))
	// Text in another encoding than UTF-8 (Windows-1252 é, a cut sequence), as JSON and CSV.
	f.Add(uint8(5), []byte("{\"campaign\":\"spring\",\"text\":\"Caf\xe9\",\"at\":\"+1h\"}"))
	f.Add(uint8(0), []byte("{\"name\":\"x\xc3\",\"accounts\":[\"brand-mastodon\"]}"))
	f.Add(uint8(7), []byte("spring,+2h,cr\xe8me br\xfbl\xe9e\n"))

	e := newEnv(f)
	token := e.tokens[queue.RoleAdmin]
	send := func(method, path, ctype string, body []byte) (int, []byte, error) {
		req, err := http.NewRequest(method, e.srv.URL+path, bytes.NewReader(body))
		if err != nil {
			return 0, nil, err
		}
		req.Header.Set("Authorization", "Bearer "+token)
		if ctype != "" {
			req.Header.Set("Content-Type", ctype)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, nil, err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return resp.StatusCode, b, err
	}
	// A campaign and a post for the routes that name them.
	if code, b, err := send("POST", "/api/v1/campaigns", "application/json", []byte(`{"name":"spring","accounts":["brand-mastodon"],"topics":["gardening"]}`)); err != nil || code != 201 {
		f.Fatalf("creating the campaign: %d %s %v", code, b, err)
	}
	if code, b, err := send("POST", "/api/v1/posts", "application/json", []byte(`{"campaign":"spring","text":"Tulips","at":"+2h"}`)); err != nil || code != 201 {
		f.Fatalf("creating the post: %d %s %v", code, b, err)
	}

	f.Fuzz(func(t *testing.T, route uint8, body []byte) {
		r := fuzzRoutes[int(route)%len(fuzzRoutes)]
		code, b, err := send(r.method, r.path, r.ctype, body)
		if err != nil {
			t.Fatal(err)
		}
		where := fmt.Sprintf("%s %s (%s) with %q", r.method, r.path, r.ctype, body)
		if code >= 500 && code != http.StatusServiceUnavailable {
			t.Fatalf("%s answered %d: %s", where, code, b)
		}
		if code < 300 && !utf8.Valid(body) {
			t.Fatalf("%s accepted a body that is not UTF-8 (%d): %s", where, code, b)
		}
		if code == http.StatusNoContent {
			return
		}
		var v map[string]any
		if err := json.Unmarshal(b, &v); err != nil {
			t.Fatalf("%s answered %d with a body that is not a JSON object: %s", where, code, b)
		}
		if code >= 400 {
			if msg, _ := v["error"].(string); msg == "" {
				t.Fatalf("%s answered %d without an error message: %s", where, code, b)
			}
		}
	})
}
