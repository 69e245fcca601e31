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
	// FeedFetches counts feed polls by feed and result (ok, not_modified, error).
	FeedFetches *prometheus.CounterVec
	// FeedItems counts new context items by source.
	FeedItems *prometheus.CounterVec
	// RulesLastReloadSuccessful is 1 when the last rule reload succeeded, 0 after an error.
	RulesLastReloadSuccessful prometheus.Gauge
	// RulesReloads counts rule reloads by result (ok, error).
	RulesReloads *prometheus.CounterVec
	// RulesLoaded is the number of rules in force.
	RulesLoaded prometheus.Gauge
	// IncidentsOpened counts incidents opened, by rule.
	IncidentsOpened *prometheus.CounterVec
	// AutoActions counts automatic pauses, holds and flags, by rule and action.
	AutoActions *prometheus.CounterVec
}

// New makes the registry and instruments. store, when not nil, feeds the gauges computed
// at scrape time.
func New(store queue.Store, log *slog.Logger) *Metrics {
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
		FeedFetches: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tact_feed_fetches_total", Help: "Feed polls by result.",
		}, []string{"feed", "result"}),
		FeedItems: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tact_context_items_total", Help: "New context items by source.",
		}, []string{"source"}),
		RulesLastReloadSuccessful: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "tact_rules_last_reload_successful", Help: "1 if the last rule reload succeeded, 0 if it failed (the previous set stays in force).",
		}),
		RulesReloads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tact_rules_reloads_total", Help: "Rule reloads by result.",
		}, []string{"result"}),
		RulesLoaded: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "tact_rules_loaded", Help: "Rules in force.",
		}),
		IncidentsOpened: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tact_incidents_opened_total", Help: "Incidents opened, by rule.",
		}, []string{"rule"}),
		AutoActions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tact_auto_actions_total", Help: "Automatic pauses, holds and flags, by rule and action.",
		}, []string{"rule", "action"}),
	}
	m.RulesLastReloadSuccessful.Set(1)
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.PublishDuration, m.PublishLateness, m.Publishes, m.PluginCalls, m.FeedFetches, m.FeedItems,
		m.RulesLastReloadSuccessful, m.RulesReloads, m.RulesLoaded, m.IncidentsOpened, m.AutoActions,
	)
	if store != nil {
		reg.MustRegister(&storeCollector{store: store, log: log})
	}
	return m
}

// Handler serves the registry in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{Registry: m.Registry})
}

// ObservePublish records one publish attempt.
func (m *Metrics) ObservePublish(account, outcome string, took time.Duration, due time.Time, at time.Time) {
	m.PublishDuration.WithLabelValues(account, outcome).Observe(took.Seconds())
	m.Publishes.WithLabelValues(account, outcome).Inc()
	if outcome == "published" && !due.IsZero() {
		late := at.Sub(due)
		if late < 0 {
			late = 0
		}
		m.PublishLateness.WithLabelValues(account).Observe(late.Seconds())
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

// ObserveFeed records one feed poll; result is ok, not_modified or error.
func (m *Metrics) ObserveFeed(feed, result string, newItems int) {
	m.FeedFetches.WithLabelValues(feed, result).Inc()
	if newItems > 0 {
		m.FeedItems.WithLabelValues(feed).Add(float64(newItems))
	}
}

// ObserveRulesReload records a rule reload.
func (m *Metrics) ObserveRulesReload(ok bool, rules int) {
	if ok {
		m.RulesReloads.WithLabelValues("ok").Inc()
		m.RulesLastReloadSuccessful.Set(1)
		m.RulesLoaded.Set(float64(rules))
		return
	}
	m.RulesReloads.WithLabelValues("error").Inc()
	m.RulesLastReloadSuccessful.Set(0)
}

// storeCollector reads gauges from the store at scrape time.
type storeCollector struct {
	store queue.Store
	log   *slog.Logger
}

var (
	postsDesc     = prometheus.NewDesc("tact_posts", "Posts by state.", []string{"state"}, nil)
	queueDesc     = prometheus.NewDesc("tact_queue_depth", "Posts waiting to be published or approved (pending, approved, held).", nil, nil)
	campaignsDesc = prometheus.NewDesc("tact_campaigns", "Campaigns by state.", []string{"state"}, nil)
	incidentsDesc = prometheus.NewDesc("tact_incidents_open", "Open incidents.", nil, nil)
	accountsDesc  = prometheus.NewDesc("tact_account_healthy", "1 if the account is healthy, 0 if it needs attention.", []string{"account"}, nil)
	scrapeErrDesc = prometheus.NewDesc("tact_store_scrape_error", "1 if reading the store for these metrics failed.", nil, nil)
)

func (c *storeCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{postsDesc, queueDesc, campaignsDesc, incidentsDesc, accountsDesc, scrapeErrDesc} {
		ch <- d
	}
}

func (c *storeCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	failed := 0.0
	if counts, err := c.store.CountPosts(ctx); err == nil {
		for _, s := range queue.PostStates {
			ch <- prometheus.MustNewConstMetric(postsDesc, prometheus.GaugeValue, float64(counts[s]), string(s))
		}
		depth := counts[queue.PostPending] + counts[queue.PostApproved] + counts[queue.PostHeld]
		ch <- prometheus.MustNewConstMetric(queueDesc, prometheus.GaugeValue, float64(depth))
	} else {
		failed = 1
		c.log.Warn("metrics: counting posts failed", "err", err)
	}
	if cs, err := c.store.Campaigns(ctx, queue.CampaignFilter{}); err == nil {
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
	if inc, err := c.store.Incidents(ctx, queue.IncidentFilter{States: []queue.IncidentState{queue.IncidentOpen}}); err == nil {
		ch <- prometheus.MustNewConstMetric(incidentsDesc, prometheus.GaugeValue, float64(len(inc)))
	} else {
		failed = 1
	}
	if st, err := c.store.AccountStatuses(ctx); err == nil {
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
