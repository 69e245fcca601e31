// Package metrics owns tact's Prometheus metrics: one registry per daemon (no process-wide
// state), the counters and histograms the publisher, plugin host, watcher and rule manager
// update, and gauges read from the store at scrape time (posts by state, paused campaigns,
// open incidents), so that they are never out of step with the database.
package metrics

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/tact-hq/tact/daemon/queue"
)

// Metrics is the daemon's registry and the instruments the other parts update.
type Metrics struct {
	Registry *prometheus.Registry

	// PublishDuration is how long a plugin Publish took, by account and outcome.
	PublishDuration *prometheus.HistogramVec
	// PublishLateness is how long after its due time a post was published, by account.
	PublishLateness *prometheus.HistogramVec
	// Publishes counts publish attempts by account and outcome
	// (published, retry, failed, unknown, auth).
	Publishes *prometheus.CounterVec
	// PluginCalls is the duration of every plugin call, by account, method and result.
	PluginCalls *prometheus.HistogramVec
}

// FeedStat is what the watcher knows of one feed, read at scrape time.
type FeedStat struct {
	Name                string
	Polls, NotModified  int64
	Items               int64
	ConsecutiveFailures int
	LastOK              time.Time
}

// RulesStat is the rule manager's state, read at scrape time.
type RulesStat struct {
	Loaded        int
	LastReloadOK  bool
	ReloadsOK     int64
	ReloadsFailed int64
}

// Sources are read at each scrape, so the figures are never out of step with the parts
// that own them. Any may be nil.
type Sources struct {
	Store queue.Store
	Feeds func() []FeedStat
	Rules func() RulesStat
	// ListAnswers counts the queue listing's requests answered from a kept answer and
	// built anew (api.AnswerCounts).
	ListAnswers func() (kept, built uint64)
	// ScheduleCapped counts the recurring campaigns held at the open-post limit
	// (schedule.Scheduler.Capped).
	ScheduleCapped func() int
}

// New makes the registry and instruments; src feeds the figures computed at scrape time.
func New(src Sources, log *slog.Logger) *Metrics {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	reg := prometheus.NewRegistry()
	m := &Metrics{
		Registry: reg,
		PublishDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "tact_publish_duration_seconds", Help: "Duration of plugin Publish calls.",
			Buckets: prometheus.ExponentialBuckets(0.005, 2, 14),
		}, []string{"account", "outcome"}),
		PublishLateness: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "tact_publish_lateness_seconds", Help: "Time between a post's due time and its publish.",
			Buckets: []float64{0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800},
		}, []string{"account"}),
		Publishes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tact_publishes_total", Help: "Publish attempts by outcome.",
		}, []string{"account", "outcome"}),
		PluginCalls: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "tact_plugin_call_duration_seconds", Help: "Duration of plugin calls by method and result.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 15),
		}, []string{"account", "method", "result"}),
	}
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.PublishDuration, m.PublishLateness, m.Publishes, m.PluginCalls,
		&sourceCollector{src: src, log: log},
	)
	return m
}

// Handler serves the registry in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{Registry: m.Registry})
}

// PublishDone records one publish attempt (the publisher's Observer): how long the
// plugin took, and for published posts how late after their due time they went out.
func (m *Metrics) PublishDone(account string, took, lateness time.Duration, outcome string) {
	m.PublishDuration.WithLabelValues(account, outcome).Observe(took.Seconds())
	m.Publishes.WithLabelValues(account, outcome).Inc()
	if outcome == "published" {
		m.PublishLateness.WithLabelValues(account).Observe(max(lateness, 0).Seconds())
	}
}

// ObservePluginCall records one plugin call.
func (m *Metrics) ObservePluginCall(account, method string, took time.Duration, err error) {
	result := "ok"
	if err != nil {
		result = "error"
	}
	m.PluginCalls.WithLabelValues(account, method, result).Observe(took.Seconds())
}

// sourceCollector reads gauges and counters from their owners at scrape time.
type sourceCollector struct {
	src Sources
	log *slog.Logger
}

var (
	postsDesc     = prometheus.NewDesc("tact_posts", "Posts by state.", []string{"state"}, nil)
	queueDesc     = prometheus.NewDesc("tact_queue_depth", "Posts waiting to be published or approved (pending, approved, held).", nil, nil)
	campaignsDesc = prometheus.NewDesc("tact_campaigns", "Campaigns by state.", []string{"state"}, nil)
	incidentsDesc = prometheus.NewDesc("tact_incidents_open", "Open incidents.", nil, nil)
	accountsDesc  = prometheus.NewDesc("tact_account_healthy", "1 if the account is healthy, 0 if it needs attention.", []string{"account"}, nil)
	scrapeErrDesc = prometheus.NewDesc("tact_store_scrape_error", "1 if reading the store for these metrics failed.", nil, nil)

	feedPollsDesc    = prometheus.NewDesc("tact_feed_polls_total", "Feed polls.", []string{"feed"}, nil)
	feedNotModDesc   = prometheus.NewDesc("tact_feed_not_modified_total", "Feed polls answered 304 or with an unchanged file.", []string{"feed"}, nil)
	feedItemsDesc    = prometheus.NewDesc("tact_feed_items_total", "New context items seen in a feed since start.", []string{"feed"}, nil)
	feedFailuresDesc = prometheus.NewDesc("tact_feed_consecutive_failures", "Failed polls of a feed since its last success.", []string{"feed"}, nil)
	feedLastOKDesc   = prometheus.NewDesc("tact_feed_last_success_timestamp_seconds", "When a feed was last polled successfully.", []string{"feed"}, nil)

	rulesLoadedDesc  = prometheus.NewDesc("tact_rules_loaded", "Rules in force.", nil, nil)
	rulesLastOKDesc  = prometheus.NewDesc("tact_rules_last_reload_successful", "1 if the last rule reload succeeded, 0 if it failed (the previous set stays in force).", nil, nil)
	rulesReloadsDesc = prometheus.NewDesc("tact_rules_reloads_total", "Rule reloads by result.", []string{"result"}, nil)

	scheduleCappedDesc = prometheus.NewDesc("tact_schedule_capped_campaigns", "Recurring campaigns whose due ticks wait because the campaign has [daemon] max_open_posts_per_campaign open posts.", nil, nil)

	listAnswersDesc = prometheus.NewDesc("tact_api_list_answers_total", "GET /api/v1/posts requests by how they were answered: kept (nothing changed since the same request was answered) or built (read from the database).", []string{"source"}, nil)
)

func (c *sourceCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{postsDesc, queueDesc, campaignsDesc, incidentsDesc, accountsDesc, scrapeErrDesc,
		feedPollsDesc, feedNotModDesc, feedItemsDesc, feedFailuresDesc, feedLastOKDesc, rulesLoadedDesc, rulesLastOKDesc, rulesReloadsDesc,
		listAnswersDesc, scheduleCappedDesc} {
		ch <- d
	}
}

func (c *sourceCollector) Collect(ch chan<- prometheus.Metric) {
	if c.src.Feeds != nil {
		for _, f := range c.src.Feeds() {
			ch <- prometheus.MustNewConstMetric(feedPollsDesc, prometheus.CounterValue, float64(f.Polls), f.Name)
			ch <- prometheus.MustNewConstMetric(feedNotModDesc, prometheus.CounterValue, float64(f.NotModified), f.Name)
			ch <- prometheus.MustNewConstMetric(feedItemsDesc, prometheus.CounterValue, float64(f.Items), f.Name)
			ch <- prometheus.MustNewConstMetric(feedFailuresDesc, prometheus.GaugeValue, float64(f.ConsecutiveFailures), f.Name)
			if !f.LastOK.IsZero() {
				ch <- prometheus.MustNewConstMetric(feedLastOKDesc, prometheus.GaugeValue, float64(f.LastOK.UnixNano())/1e9, f.Name)
			}
		}
	}
	if c.src.Rules != nil {
		r := c.src.Rules()
		ok := 0.0
		if r.LastReloadOK {
			ok = 1
		}
		ch <- prometheus.MustNewConstMetric(rulesLoadedDesc, prometheus.GaugeValue, float64(r.Loaded))
		ch <- prometheus.MustNewConstMetric(rulesLastOKDesc, prometheus.GaugeValue, ok)
		ch <- prometheus.MustNewConstMetric(rulesReloadsDesc, prometheus.CounterValue, float64(r.ReloadsOK), "ok")
		ch <- prometheus.MustNewConstMetric(rulesReloadsDesc, prometheus.CounterValue, float64(r.ReloadsFailed), "error")
	}
	if c.src.ListAnswers != nil {
		kept, built := c.src.ListAnswers()
		ch <- prometheus.MustNewConstMetric(listAnswersDesc, prometheus.CounterValue, float64(kept), "kept")
		ch <- prometheus.MustNewConstMetric(listAnswersDesc, prometheus.CounterValue, float64(built), "built")
	}
	if c.src.ScheduleCapped != nil {
		ch <- prometheus.MustNewConstMetric(scheduleCappedDesc, prometheus.GaugeValue, float64(c.src.ScheduleCapped()))
	}
	if c.src.Store == nil {
		return
	}
	store := c.src.Store
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	failed := 0.0
	if counts, err := store.CountPosts(ctx); err == nil {
		for _, s := range queue.PostStates {
			ch <- prometheus.MustNewConstMetric(postsDesc, prometheus.GaugeValue, float64(counts[s]), string(s))
		}
		depth := counts[queue.PostPending] + counts[queue.PostApproved] + counts[queue.PostHeld]
		ch <- prometheus.MustNewConstMetric(queueDesc, prometheus.GaugeValue, float64(depth))
	} else {
		failed = 1
		c.log.Warn("metrics: counting posts failed", "err", err)
	}
	if cs, err := store.Campaigns(ctx, queue.CampaignFilter{}); err == nil {
		byState := map[queue.CampaignState]int{queue.CampaignActive: 0, queue.CampaignPaused: 0, queue.CampaignArchived: 0}
		for _, cp := range cs {
			byState[cp.State]++
		}
		for s, n := range byState {
			ch <- prometheus.MustNewConstMetric(campaignsDesc, prometheus.GaugeValue, float64(n), string(s))
		}
	} else {
		failed = 1
	}
	if inc, err := store.Incidents(ctx, queue.IncidentFilter{States: []queue.IncidentState{queue.IncidentOpen}}); err == nil {
		ch <- prometheus.MustNewConstMetric(incidentsDesc, prometheus.GaugeValue, float64(len(inc)))
	} else {
		failed = 1
	}
	if st, err := store.AccountStatuses(ctx); err == nil {
		for _, s := range st {
			v := 0.0
			if s.Healthy {
				v = 1
			}
			ch <- prometheus.MustNewConstMetric(accountsDesc, prometheus.GaugeValue, v, s.Account)
		}
	} else {
		failed = 1
	}
	ch <- prometheus.MustNewConstMetric(scrapeErrDesc, prometheus.GaugeValue, failed)
}
