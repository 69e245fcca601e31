package watch

import "github.com/tact-hq/tact/daemon/api"

var _ api.FeedReporter = (*Watcher)(nil)

// Feeds reports each feed's health for the API's status (and so `tactctl status`).
func (w *Watcher) Feeds() []api.FeedInfo {
	st := w.FeedStatus()
	out := make([]api.FeedInfo, len(st))
	for i, f := range st {
		out[i] = api.FeedInfo{Name: f.Name, URL: f.URL, LastOK: f.LastOK, LastError: f.LastError, ErrorAt: f.ErrorAt, Failures: f.Failures}
	}
	return out
}
