package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/tact-hq/tact/rules"
)

// The incident load (docs/performance.md, "The load run"): while incidents are open, every
// listing shows safety warnings, and people and scripts page and filter the queue far more
// than usual. It declares incidents through the API, as an admin does in a crisis (the
// rules' actions apply: campaigns are paused, posts held and flagged), then requests varied
// listings at the run's rate.

// incidentMix is the order in which the declared incidents' rules take their actions: pause
// most often, as among the generated rules (10 incidents: 6 pause, 2 hold, 2 flag).
var incidentMix = []string{rules.ActionPause, rules.ActionHold, rules.ActionPause, rules.ActionFlag, rules.ActionPause}

// incidentRules picks n rules of the set in globs, in a fixed order of ids, the actions
// taken in turn from incidentMix, so that every run declares the same incidents.
func incidentRules(globs []string, n int) ([]string, error) {
	set, err := rules.LoadFiles(globs)
	if err != nil {
		return nil, err
	}
	ids := set.IDs()
	slices.Sort(ids)
	used := map[string]bool{}
	var out []string
	for len(out) < n {
		want := incidentMix[len(out)%len(incidentMix)]
		found := false
		for _, id := range ids {
			if !used[id] && set.Rule(id).Action == want {
				used[id], found = true, true
				out = append(out, id)
				break
			}
		}
		if !found {
			for _, id := range ids { // no rule of that action left: any other one
				if !used[id] {
					used[id], found = true, true
					out = append(out, id)
					break
				}
			}
		}
		if !found {
			return nil, fmt.Errorf("%d incidents asked for, but the rules hold only %d rules", n, len(ids))
		}
	}
	return out, nil
}

// declareIncidents opens one incident per rule through POST /api/v1/incidents; each answer
// comes once the rule's action is applied to the whole queue.
func declareIncidents(ctx context.Context, client *http.Client, base, token string, ids []string) error {
	for _, id := range ids {
		body, err := json.Marshal(map[string]string{"rule": id, "note": "tact-loadgen: declared for the incident load"})
		if err != nil {
			return err
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/api/v1/incidents", bytes.NewReader(body))
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		// The answer waits for a scan of the whole queue: longer than the load's timeout.
		resp, err := (&http.Client{Transport: client.Transport, Timeout: 5 * time.Minute}).Do(req)
		if err != nil {
			return fmt.Errorf("declare an incident for rule %s: %w", id, err)
		}
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated {
			return fmt.Errorf("declare an incident for rule %s: %s: %s", id, resp.Status, bytes.TrimSpace(msg))
		}
	}
	return nil
}

// queueState is what GET /api/v1/status says of the queue: posts by state, paused campaigns
// and open incidents.
type queueState struct {
	Posts     map[string]int `json:"posts"`
	Campaigns map[string]int `json:"campaigns"`
	Open      []struct {
		ID int64 `json:"id"`
	} `json:"open_incidents"`
}

func readStatus(ctx context.Context, client *http.Client, base, token string) (queueState, error) {
	var st queueState
	err := getJSON(ctx, client, base+"/api/v1/status", token, &st)
	return st, err
}

// getJSON decodes the JSON answer of GET url into v.
func getJSON(ctx context.Context, client *http.Client, url, token string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return fmt.Errorf("GET %s answered %s: %s", url, resp.Status, bytes.TrimSpace(msg))
	}
	return json.NewDecoder(resp.Body).Decode(v)
}

// variedListings returns the listing requests of the incident load, in a fixed shuffled
// order: what the people and scripts working the queue ask during an incident, different
// filters and cursors: the queue's first three pages (each following the previous answer's
// cursor), the held and the approved posts, the three states together, a page of 50, four
// campaigns' queues and one day's posts. Twelve listings, within the answers tactd keeps
// (16): their pages are built again after each change to the database (workQueue makes
// them), as while people work the queue.
//
// Listings by account are left out: they cost 16–53 ms each at 100,000 posts with or without
// an incident (the account filter walks the queue in due order, docs/performance.md, "Known
// limits"), which is not what this load measures.
func variedListings(ctx context.Context, client *http.Client, base, token string) ([]string, error) {
	var out []string
	pages := func(query string, n int) error {
		cursor := ""
		for range n {
			q := query
			if cursor != "" {
				q += "&cursor=" + url.QueryEscape(cursor)
			}
			out = append(out, base+"/api/v1/posts?"+q)
			var page struct {
				Next string `json:"next"`
			}
			if err := getJSON(ctx, client, base+"/api/v1/posts?"+q, token, &page); err != nil {
				return err
			}
			if cursor = page.Next; cursor == "" {
				return nil
			}
		}
		return nil
	}
	for _, p := range []struct {
		query string
		n     int
	}{{"state=pending", 3}, {"state=held", 1}, {"state=approved", 1}, {"state=pending,held,approved", 1}, {"state=pending&limit=50", 1}} {
		if err := pages(p.query, p.n); err != nil {
			return nil, err
		}
	}
	var camps struct {
		Items []struct {
			Name string `json:"name"`
		} `json:"items"`
	}
	if err := getJSON(ctx, client, base+"/api/v1/campaigns", token, &camps); err != nil {
		return nil, err
	}
	step := max(len(camps.Items)/4, 1)
	for i, c := range camps.Items {
		if i%step == 0 && i/step < 4 {
			out = append(out, base+"/api/v1/posts?state=pending&campaign="+url.QueryEscape(c.Name))
		}
	}
	from := time.Now().UTC().Truncate(24 * time.Hour).Add(24 * time.Hour)
	out = append(out, base+"/api/v1/posts?state=pending&due_after="+url.QueryEscape(from.Format(time.RFC3339))+
		"&due_before="+url.QueryEscape(from.Add(24*time.Hour).Format(time.RFC3339)))
	rng := rand.New(rand.NewPCG(10, 10))
	rng.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out, nil
}

// approvalsPerSecond is how fast the people working the queue approve posts during the
// incident load: each approval is a commit, after which every listing is built again.
const approvalsPerSecond = 5

// pendingIDs returns up to n pending posts, the queue's first, for workQueue to approve.
func pendingIDs(ctx context.Context, client *http.Client, base, token string, n int) ([]int64, error) {
	var page struct {
		Items []struct {
			ID int64 `json:"id"`
		} `json:"items"`
	}
	if err := getJSON(ctx, client, fmt.Sprintf("%s/api/v1/posts?state=pending&limit=%d", base, n), token, &page); err != nil {
		return nil, err
	}
	ids := make([]int64, 0, len(page.Items))
	for _, it := range page.Items {
		ids = append(ids, it.ID)
	}
	return ids, nil
}

// workQueue approves the posts ids through the API at approvalsPerSecond for d, as people
// do, and returns how many were approved and how many refused (a post whose campaign a
// rule paused is still approved; one that changed meanwhile is refused).
func workQueue(ctx context.Context, client *http.Client, base, token string, ids []int64, d time.Duration) (approved, refused int) {
	tick := time.NewTicker(time.Second / approvalsPerSecond)
	defer tick.Stop()
	end := time.After(d)
	for _, id := range ids {
		select {
		case <-ctx.Done():
			return approved, refused
		case <-end:
			return approved, refused
		case <-tick.C:
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, fmt.Sprintf("%s/api/v1/posts/%d/approve", base, id), nil)
		if err != nil {
			refused++
			continue
		}
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := client.Do(req)
		if err != nil {
			refused++
			continue
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			approved++
		} else {
			refused++
		}
	}
	return approved, refused
}
