package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// loadResult is what an open-loop load measured.
type loadResult struct {
	Latencies []time.Duration // of the requests answered 200
	Errors    int             // transport errors and non-200 answers
	FirstErr  string
	Sent      int
}

// openLoop sends GET requests at a fixed rate for d, whatever the answers, to the urls in
// turn: each request starts at its planned time in its own goroutine, and its latency counts
// from that planned time, so a slow server shows as latency instead of silently lowering the
// rate (no coordinated omission). It waits for every request to finish (each bounded by a
// 10s timeout).
func openLoop(ctx context.Context, client *http.Client, urls []string, token string, rate int, d time.Duration) loadResult {
	n := int(float64(rate) * d.Seconds())
	every := time.Second / time.Duration(rate)
	var (
		mu  sync.Mutex
		res = loadResult{Latencies: make([]time.Duration, 0, n)}
		wg  sync.WaitGroup
	)
	start := time.Now()
	for i := range n {
		planned := start.Add(time.Duration(i) * every)
		if w := time.Until(planned); w > 0 {
			select {
			case <-ctx.Done():
				wg.Wait()
				return res
			case <-time.After(w):
			}
		}
		res.Sent++
		url := urls[i%len(urls)]
		wg.Go(func() {
			err := get(ctx, client, url, token)
			took := time.Since(planned)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				res.Errors++
				if res.FirstErr == "" {
					res.FirstErr = err.Error()
				}
				return
			}
			res.Latencies = append(res.Latencies, took)
		})
	}
	wg.Wait()
	return res
}

func get(ctx context.Context, client *http.Client, url, token string) error {
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
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s answered %s", url, resp.Status)
	}
	return nil
}

// newClient is an HTTP client for loopback load: enough idle connections that the planned
// rate never waits for a connection to be set up.
func newClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = 256
	t.MaxIdleConnsPerHost = 256
	t.DisableCompression = true
	return &http.Client{Transport: t, Timeout: 10 * time.Second}
}

// percentile is the nearest-rank q-quantile (0 < q <= 1) of ds; 0 when ds is empty.
func percentile(ds []time.Duration, q float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	rank := int(q*float64(len(s))+0.999999999) - 1
	return s[min(max(rank, 0), len(s)-1)]
}

// listAnswers reads from tactd's /metrics how many queue listings it answered from a kept
// answer and how many it built (tact_api_list_answers_total).
func listAnswers(ctx context.Context, client *http.Client, base string) (kept, built float64, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/metrics", nil)
	if err != nil {
		return 0, 0, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, 0, fmt.Errorf("%s/metrics answered %s", base, resp.Status)
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	found := 0
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), " ")
		if !ok {
			continue
		}
		var dst *float64
		switch name {
		case `tact_api_list_answers_total{source="kept"}`:
			dst = &kept
		case `tact_api_list_answers_total{source="built"}`:
			dst = &built
		default:
			continue
		}
		if *dst, err = strconv.ParseFloat(value, 64); err != nil {
			return 0, 0, fmt.Errorf("%s/metrics: %s: %w", base, name, err)
		}
		found++
	}
	if err := sc.Err(); err != nil {
		return 0, 0, err
	}
	if found != 2 {
		return 0, 0, fmt.Errorf("%s/metrics has no tact_api_list_answers_total", base)
	}
	return kept, built, nil
}
