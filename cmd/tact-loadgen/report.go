package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// tableInfo describes the loaded data directory in the table's heading.
type tableInfo struct {
	Queued, Campaigns, Rules, Accounts, Feeds, CPUs int
}

// Targets (issue "Operations"): what a large brand on one small machine needs.
const (
	targetColdStart = time.Second
	targetLateness  = 100 * time.Millisecond
	targetGet       = 20 * time.Millisecond
	targetRSS       = 150 << 20
)

// printTable prints the one table of a run: each figure of the loaded daemon beside the
// same figure of the baseline, and whether it meets its target.
func printTable(w io.Writer, o runOptions, info tableInfo, l, b *measurement) {
	fmt.Fprintf(w, "tactd with %d queued posts, %d campaigns, %d rules, %d accounts, %d feeds; %d CPUs\n",
		info.Queued, info.Campaigns, info.Rules, info.Accounts, info.Feeds, info.CPUs)
	fmt.Fprintf(w, "baseline: the same tactd and tact.toml on an empty data directory (%d queued posts)\n\n", b.Queued)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "figure\ttarget\tloaded\tbaseline\t")
	fmt.Fprintln(tw, "------\t------\t------\t--------\t")
	row := func(name, target, loaded, baseline, verdict string) {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", name, target, loaded, baseline, verdict)
	}
	row("cold start to ready (process start to /readyz 200)", "< 1s", ms(l.ColdStart), ms(b.ColdStart), verdict(l.ColdStart < targetColdStart))

	lp99, bp99 := percentile(l.Late, 0.99), percentile(b.Late, 0.99)
	row(fmt.Sprintf("publish lateness p99 (%d posts due over %s)", len(l.Late), (time.Duration(o.Rounds)*o.Interval)),
		"< 100ms", ms(lp99), ms(bp99), verdict(lp99 < targetLateness && l.Missing == 0 && len(l.Late) > 0))
	row("  p50 / max", "", ms(percentile(l.Late, 0.5))+" / "+ms(percentile(l.Late, 1)),
		ms(percentile(b.Late, 0.5))+" / "+ms(percentile(b.Late, 1)), "")
	if l.Missing > 0 || b.Missing > 0 {
		row("  never published", "0", fmt.Sprint(l.Missing), fmt.Sprint(b.Missing), "")
	}

	getRows(row, fmt.Sprintf("GET /api/v1/posts?state=pending p99 (%d/s for %s)", o.Rate, o.Duration), o.Duration, &l.Get, &b.Get)
	row("  machine load average (1 min) after the GET load", fmt.Sprintf("< %d", info.CPUs), l.Get.Load, b.Get.Load, "")
	row("tactd peak resident memory (VmHWM)", "< 150 MB", mb(l.End.Daemon.HWM), mb(b.End.Daemon.HWM), verdict(l.End.Daemon.HWM < targetRSS))
	row("  VmRSS idle (1s after ready) / at the end", "", mb(l.Idle.Daemon.RSS)+" / "+mb(l.End.Daemon.RSS),
		mb(b.Idle.Daemon.RSS)+" / "+mb(b.End.Daemon.RSS), "")
	row("plugin processes: count, total VmRSS at the end", "", fmt.Sprintf("%d, %s", l.End.PluginCount, mb(l.End.Plugins.RSS)),
		fmt.Sprintf("%d, %s", b.End.PluginCount, mb(b.End.Plugins.RSS)), "")
	row("  largest plugin peak (VmHWM)", "", mb(l.End.PluginMaxPeak), mb(b.End.PluginMaxPeak), "")
	if o.Incidents > 0 {
		getRows(row, fmt.Sprintf("varied listings, no incident, p99 (%d/s for %s)", o.Rate, o.Duration), o.Duration, &l.Varied, &b.Varied)
		variedRows(row, &l.Varied, &b.Varied)
		row(fmt.Sprintf("incidents declared through the API (%d asked)", o.Incidents), "", incidentSummary(l), incidentSummary(b), "")
		row("  tactd peak resident memory (VmHWM) once declared", "< 150 MB", mb(l.Declaring.Daemon.HWM), mb(b.Declaring.Daemon.HWM), verdict(l.Declaring.Daemon.HWM < targetRSS))
		getRows(row, fmt.Sprintf("varied listings, %d incidents open, p99 (%d/s for %s)", o.Incidents, o.Rate, o.Duration), o.Duration, &l.Incident, &b.Incident)
		variedRows(row, &l.Incident, &b.Incident)
		row("  tactd peak resident memory (VmHWM) after it", "< 150 MB", mb(l.Final.Daemon.HWM), mb(b.Final.Daemon.HWM), verdict(l.Final.Daemon.HWM < targetRSS))
	}
	tw.Flush()
	for _, g := range []struct {
		name string
		p    *getPhase
	}{{"GET", &l.Get}, {"varied listings", &l.Varied}, {"varied listings with incidents", &l.Incident}} {
		if g.p.FirstErr != "" {
			fmt.Fprintf(w, "\nfirst %s error (loaded): %s\n", g.name, g.p.FirstErr)
		}
	}
}

// getRows prints one GET load's rows: its p99 against the page target, then what else it
// measured.
func getRows(row func(name, target, loaded, baseline, verdict string), name string, over time.Duration, l, b *getPhase) {
	lp99, bp99 := percentile(l.Latencies, 0.99), percentile(b.Latencies, 0.99)
	row(name, "< 20ms", ms(lp99), ms(bp99), verdict(lp99 < targetGet && l.Errors == 0 && len(l.Latencies) > 0))
	row("  p50 / max", "", ms(percentile(l.Latencies, 0.5))+" / "+ms(percentile(l.Latencies, 1)),
		ms(percentile(b.Latencies, 0.5))+" / "+ms(percentile(b.Latencies, 1)), "")
	row("  errors / sent", "0", fmt.Sprintf("%d / %d", l.Errors, l.Sent), fmt.Sprintf("%d / %d", b.Errors, b.Sent), "")
	row("  tactd CPU during the GET load (cores)", "", cores(l.CPU, over), cores(b.CPU, over), "")
	row("  answers built / kept (nothing changed since)", "", answerSplit(l), answerSplit(b), "")
}

// variedRows are the rows of a varied listings load beyond getRows: what it asked, and what
// people did meanwhile.
func variedRows(row func(name, target, loaded, baseline, verdict string), l, b *getPhase) {
	row("  distinct listings, in turn", "", fmt.Sprint(l.Distinct), fmt.Sprint(b.Distinct), "")
	row(fmt.Sprintf("  approvals meanwhile (%d/s; refused)", approvalsPerSecond), "", fmt.Sprintf("%d (%d)", l.Approved, l.Refused),
		fmt.Sprintf("%d (%d)", b.Approved, b.Refused), "")
}

// incidentSummary says how many incidents were open for the incident load and what their
// rules' actions did to the queue.
func incidentSummary(m *measurement) string {
	return fmt.Sprintf("%d in %s: %d campaigns paused, %d posts held", m.Declared, ms(m.DeclareTook), m.Paused, m.Held)
}

func verdict(ok bool) string {
	if ok {
		return "ok"
	}
	return "MISSED"
}

func ms(d time.Duration) string {
	switch {
	case d == 0:
		return "-"
	case d < 10*time.Millisecond && d > -10*time.Millisecond:
		return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond))
	default:
		return fmt.Sprintf("%.0f ms", float64(d)/float64(time.Millisecond))
	}
}

func mb(b int64) string {
	if b == 0 {
		return "-"
	}
	return strings.TrimSuffix(fmt.Sprintf("%.1f", float64(b)/(1<<20)), ".0") + " MB"
}

func cores(cpu, over time.Duration) string {
	if over <= 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f", cpu.Seconds()/over.Seconds())
}

// answerSplit is how many GET answers tactd built and how many it gave again unchanged.
func answerSplit(g *getPhase) string {
	total := g.Built + g.Kept
	if total == 0 {
		return "-"
	}
	return fmt.Sprintf("%.0f / %.0f (%.0f%% built)", g.Built, g.Kept, 100*g.Built/total)
}
