package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/tact-hq/tact/config"
	"github.com/tact-hq/tact/daemon/queue"
	"github.com/tact-hq/tact/daemon/sqlite"
)

// runOptions is what `tact-loadgen run` does.
type runOptions struct {
	Data     string
	Tactd    string
	Rate     int           // GET requests per second
	Duration time.Duration // of the GET load
	Interval time.Duration // between two stream posts of one account
	Rounds   int           // stream posts per account (after the warm-up)
	Keep     bool          // keep the baseline's data directory
	Quiet    time.Duration // wait at most this long for the machine to be idle before each daemon
	// Incidents is how many incidents the incident load declares (0: no incident load).
	Incidents int
	Rules     []string // rule file globs of the data directory (to pick the incidents' rules)
}

func runCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fl := flag.NewFlagSet("tact-loadgen run", flag.ContinueOnError)
	fl.SetOutput(stderr)
	var o runOptions
	fl.StringVar(&o.Data, "data", "", "data directory made by tact-loadgen fill")
	fl.StringVar(&o.Tactd, "tactd", "", "path of the tactd binary to measure")
	fl.IntVar(&o.Rate, "rate", 200, "GET /api/v1/posts?state=pending requests per second (open loop)")
	fl.DurationVar(&o.Duration, "duration", 20*time.Second, "how long the GET load lasts")
	fl.DurationVar(&o.Interval, "interval", 5*time.Second, "time between two stream posts of one account")
	fl.IntVar(&o.Rounds, "rounds", 6, "stream posts per account, after its warm-up post")
	fl.BoolVar(&o.Keep, "keep", false, "keep the baseline's data directory")
	fl.IntVar(&o.Incidents, "incidents", 10, "incidents declared for the incident load, after the stream (0: no incident load)")
	fl.DurationVar(&o.Quiet, "quiet-wait", 3*time.Minute, "before each daemon, wait at most this long for the 1-minute load average to fall below the number of CPUs (0: do not wait)")
	if err := fl.Parse(args); err != nil {
		return errUsage
	}
	if o.Data == "" || o.Tactd == "" || fl.NArg() > 0 {
		return fmt.Errorf("%w: run needs --data DIR and --tactd PATH", errUsage)
	}
	if o.Rate < 1 || o.Duration <= 0 || o.Interval <= 0 || o.Rounds < 1 || o.Incidents < 0 {
		return fmt.Errorf("%w: --rate, --duration, --interval and --rounds must be positive, --incidents not negative", errUsage)
	}
	return runLoad(ctx, o, stdout)
}

// measurement is what one daemon run measured.
type measurement struct {
	Queued    int // pending, approved and held posts at start
	ColdStart time.Duration
	Idle      snapshot // one second after ready, before the stream
	End       snapshot // after the stream
	Get       getPhase // the queue's first page, during the stream
	Late      []time.Duration
	Missing   int // measured stream posts never published

	// The incident load, after the stream (incidents.go): varied listings with no
	// incident open, then incidents declared, then varied listings again.
	Varied, Incident getPhase
	Declared         int           // incidents open during Incident
	DeclareTook      time.Duration // to declare them all (each applies its rule's action)
	Paused, Held     int           // campaigns paused and posts held once they were declared
	Declaring        snapshot      // once they were declared
	Final            snapshot      // after the incident load
}

// getPhase is one open-loop GET load and what tactd did meanwhile.
type getPhase struct {
	loadResult
	Distinct    int           // distinct requests sent in turn
	CPU         time.Duration // tactd's CPU time during the load
	Kept, Built float64       // listings answered from a kept answer, and built
	Load        string        // the machine's 1-minute load average at the end
	// Approved and Refused count the approvals made meanwhile (workQueue), if any.
	Approved, Refused int
}

// runLoad measures the baseline (the same configuration on an empty data directory), then
// the filled data directory, and prints the table.
func runLoad(ctx context.Context, o runOptions, stdout io.Writer) error {
	data, err := filepath.Abs(o.Data)
	if err != nil {
		return err
	}
	tactd, err := filepath.Abs(o.Tactd)
	if err != nil {
		return err
	}
	cfg, err := config.Load(filepath.Join(data, "tact.toml"))
	if err != nil {
		return fmt.Errorf("%w (make it with tact-loadgen fill --data %s)", err, data)
	}
	if len(cfg.Accounts) == 0 || cfg.Accounts[0].Settings["path"] == "" {
		return fmt.Errorf("%s has no outbox accounts: make it with tact-loadgen fill", cfg.Path)
	}
	var accounts []string
	for _, a := range cfg.Accounts {
		accounts = append(accounts, a.Name)
	}
	rules, _ := filepath.Glob(filepath.Join(data, "rules.d", "*.toml"))
	o.Rules = cfg.Daemon.Rules

	base, err := os.MkdirTemp(data, "baseline-")
	if err != nil {
		return err
	}
	if !o.Keep {
		defer os.RemoveAll(base)
	}
	if err := os.MkdirAll(filepath.Join(base, "outbox"), 0o700); err != nil {
		return err
	}
	baseCfg := filepath.Join(base, "tact.toml")
	if err := os.WriteFile(baseCfg, []byte(configTOML(base, data, 0, len(accounts), len(cfg.Feeds))), 0o600); err != nil {
		return err
	}

	fmt.Fprintf(stdout, "baseline: the same tactd and tact.toml on an empty data directory (%s)\n", base)
	b, err := measure(ctx, o, tactd, base, baseCfg, accounts, stdout)
	if err != nil {
		return fmt.Errorf("baseline: %w", err)
	}
	fmt.Fprintf(stdout, "loaded: %s\n", data)
	l, err := measure(ctx, o, tactd, data, cfg.Path, accounts, stdout)
	if err != nil {
		return fmt.Errorf("loaded: %w", err)
	}
	fmt.Fprintln(stdout)
	printTable(stdout, o, tableInfo{Queued: l.Queued, Campaigns: countCampaigns(ctx, data), Rules: len(rules),
		Accounts: len(accounts), Feeds: len(cfg.Feeds), CPUs: runtime.NumCPU()}, l, b)
	return nil
}

// measure runs tactd on dataDir once: cold start, idle memory, the stream of due posts with
// the GET load in its middle, memory at the end, graceful stop, then lateness.
func measure(ctx context.Context, o runOptions, tactd, dataDir, cfgPath string, accounts []string, stdout io.Writer) (*measurement, error) {
	m := &measurement{}
	if err := waitQuiet(ctx, o.Quiet, stdout); err != nil {
		return nil, err
	}
	dbPath := filepath.Join(dataDir, "tact.db")
	var err error
	if m.Queued, err = queued(ctx, dbPath); err != nil {
		return nil, err
	}
	// Creating and approving the stream takes a few milliseconds per post; the daemon must be
	// up before the first warm-up post falls due.
	n := len(accounts) * (o.Rounds + 1)
	st := &stream{Warmup: 4 * time.Second, Interval: o.Interval, Rounds: o.Rounds}
	st.Start = time.Now().Add(5*time.Second + time.Duration(n)*10*time.Millisecond)
	st.Measured = st.Start.Add(st.Warmup + 2*time.Second)
	t := time.Now()
	if err := st.create(ctx, dbPath, accounts); err != nil {
		return nil, fmt.Errorf("stream: %w", err)
	}
	fmt.Fprintf(stdout, "  %d stream posts created and approved in %s; first due in %s\n", n, time.Since(t).Round(time.Millisecond),
		time.Until(st.Start).Round(time.Millisecond))
	if time.Until(st.Start) < time.Second {
		return nil, fmt.Errorf("creating the stream took too long (%s): the daemon could not start before it falls due", time.Since(t))
	}

	port, err := freePort()
	if err != nil {
		return nil, err
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	d, err := startDaemon(ctx, tactd, cfgPath, addr, filepath.Join(dataDir, "tactd-loadgen.log"))
	if err != nil {
		return nil, err
	}
	defer d.stop()
	m.ColdStart = d.ColdStart
	fmt.Fprintf(stdout, "  ready in %s (log: %s)\n", m.ColdStart.Round(time.Millisecond), d.logPath)
	tok, err := token(dataDir)
	if err != nil {
		return nil, err
	}
	if err := sleepCtx(ctx, time.Second); err != nil {
		return nil, err
	}
	if m.Idle, err = d.snapshot(); err != nil {
		return nil, err
	}

	// The GET load runs inside the measured stream, so lateness is measured under it.
	if err := sleepUntil(ctx, st.Measured.Add(2*time.Second)); err != nil {
		return nil, err
	}
	client := newClient()
	base := "http://" + addr
	if m.Get, err = getLoad(ctx, o, client, d, base, tok, []string{base + "/api/v1/posts?state=pending"}, nil); err != nil {
		return nil, err
	}
	fmt.Fprintf(stdout, "  GET load: %d sent, %d errors, p99 %s\n", m.Get.Sent, m.Get.Errors, percentile(m.Get.Latencies, 0.99).Round(10*time.Microsecond))

	if err := sleepUntil(ctx, st.End().Add(time.Second)); err != nil {
		return nil, err
	}
	outbox := filepath.Join(dataDir, "outbox")
	deadline := time.Now().Add(30 * time.Second)
	for st.pending(outbox) > 0 && time.Now().Before(deadline) {
		if err := sleepCtx(ctx, 200*time.Millisecond); err != nil {
			return nil, err
		}
	}
	if m.End, err = d.snapshot(); err != nil {
		return nil, err
	}
	if o.Incidents > 0 {
		if err := incidentLoad(ctx, o, m, client, d, base, tok, stdout); err != nil {
			return nil, fmt.Errorf("incident load: %w", err)
		}
	}
	d.stop()
	if m.Late, m.Missing, err = st.lateness(outbox); err != nil {
		return nil, err
	}
	fmt.Fprintf(stdout, "  stream: %d published, %d missing, lateness p99 %s\n", len(m.Late), m.Missing, percentile(m.Late, 0.99).Round(100*time.Microsecond))
	return m, nil
}

// getLoad runs the open-loop GET load of urls at the run's rate and reads what tactd did.
// Meanwhile it approves the posts approve (workQueue), if any.
func getLoad(ctx context.Context, o runOptions, client *http.Client, d *daemon, base, tok string, urls []string, approve []int64) (getPhase, error) {
	g := getPhase{Distinct: len(urls)}
	kept0, built0, err := listAnswers(ctx, client, base)
	if err != nil {
		return g, err
	}
	cpu0 := cpuTime(d.cmd.Process.Pid)
	worked := make(chan struct{})
	go func() {
		defer close(worked)
		if len(approve) > 0 {
			g.Approved, g.Refused = workQueue(ctx, newClient(), base, tok, approve, o.Duration)
		}
	}()
	g.loadResult = openLoop(ctx, client, urls, tok, o.Rate, o.Duration)
	<-worked
	g.CPU = cpuTime(d.cmd.Process.Pid) - cpu0
	kept1, built1, err := listAnswers(ctx, client, base)
	if err != nil {
		return g, err
	}
	g.Kept, g.Built = kept1-kept0, built1-built0
	g.Load = loadAverage()
	return g, nil
}

// incidentLoad measures varied listings with no incident open, declares the incidents,
// then measures the same kind of listings with them open. During both, posts are approved
// as people do (workQueue), so that pages are built again after each change.
func incidentLoad(ctx context.Context, o runOptions, m *measurement, client *http.Client, d *daemon, base, tok string, stdout io.Writer) error {
	work := int(o.Duration.Seconds()+1) * approvalsPerSecond
	ids, err := pendingIDs(ctx, client, base, tok, 2*work)
	if err != nil {
		return err
	}
	first, second := ids[:len(ids)/2], ids[len(ids)/2:]
	urls, err := variedListings(ctx, client, base, tok)
	if err != nil {
		return err
	}
	if m.Varied, err = getLoad(ctx, o, client, d, base, tok, urls, first); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "  varied listings, no incident: %d sent, %d errors, p99 %s\n", m.Varied.Sent, m.Varied.Errors,
		percentile(m.Varied.Latencies, 0.99).Round(10*time.Microsecond))

	rules, err := incidentRules(o.Rules, o.Incidents)
	if err != nil {
		return err
	}
	t := time.Now()
	if err := declareIncidents(ctx, client, base, tok, rules); err != nil {
		return err
	}
	m.DeclareTook = time.Since(t)
	st, err := readStatus(ctx, client, base, tok)
	if err != nil {
		return err
	}
	m.Declared, m.Paused, m.Held = len(st.Open), st.Campaigns["paused"], st.Posts["held"]
	if m.Declaring, err = d.snapshot(); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "  %d incidents declared in %s: %d campaigns paused, %d posts held\n", m.Declared,
		m.DeclareTook.Round(time.Millisecond), m.Paused, m.Held)

	if urls, err = variedListings(ctx, client, base, tok); err != nil {
		return err
	}
	if m.Incident, err = getLoad(ctx, o, client, d, base, tok, urls, second); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "  varied listings, %d incidents open: %d sent, %d errors, p99 %s\n", m.Declared, m.Incident.Sent, m.Incident.Errors,
		percentile(m.Incident.Latencies, 0.99).Round(10*time.Microsecond))
	m.Final, err = d.snapshot()
	return err
}

// queued counts the posts waiting in the database (pending, approved, held).
func queued(ctx context.Context, dbPath string) (int, error) {
	db, err := sqlite.Open(ctx, dbPath)
	if err != nil {
		return 0, err
	}
	defer db.Close()
	c, err := db.CountPosts(ctx)
	if err != nil {
		return 0, err
	}
	return c[queue.PostPending] + c[queue.PostApproved] + c[queue.PostHeld], nil
}

func countCampaigns(ctx context.Context, data string) int {
	db, err := sqlite.Open(ctx, filepath.Join(data, "tact.db"))
	if err != nil {
		return 0
	}
	defer db.Close()
	cs, _ := db.Campaigns(ctx, queue.CampaignFilter{})
	return len(cs)
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}

func sleepUntil(ctx context.Context, t time.Time) error { return sleepCtx(ctx, time.Until(t)) }

// loadAverage is the machine's 1-minute load average: the figures mean little when other
// work competes for the CPUs.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return "?"
	}
	return f[0]
}

// waitQuiet waits, at most max, until the machine's 1-minute load average is below its
// number of CPUs: on a shared machine other work would be measured too. It says how long it
// waited and, when it gave up, that the figures include other load.
func waitQuiet(ctx context.Context, max time.Duration, stdout io.Writer) error {
	if max <= 0 {
		return nil
	}
	start := time.Now()
	limit := float64(runtime.NumCPU())
	for {
		var l float64
		if _, err := fmt.Sscan(loadAverage(), &l); err != nil {
			return nil // no /proc/loadavg: nothing to wait for
		}
		if l < limit {
			if w := time.Since(start); w > time.Second {
				fmt.Fprintf(stdout, "  waited %s for the machine to be idle (load average %.2f)\n", w.Round(time.Second), l)
			}
			return nil
		}
		if time.Since(start) > max {
			fmt.Fprintf(stdout, "  the machine is busy (load average %.2f on %d CPUs) after waiting %s: the figures include other work\n", l, runtime.NumCPU(), max)
			return nil
		}
		if err := sleepCtx(ctx, 5*time.Second); err != nil {
			return err
		}
	}
}
