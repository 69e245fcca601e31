package notify

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"sync"

	"github.com/tact-hq/tact/config"
)

// Multi fans each event out to several notifiers.
type Multi []Notifier

// Notify passes e to every notifier in m.
func (m Multi) Notify(ctx context.Context, e Event) {
	for _, n := range m {
		n.Notify(ctx, e)
	}
}

// Run runs the background loop of every notifier in m that has one (webhooks) until ctx
// ends, and returns when they have all stopped.
func (m Multi) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	for _, n := range m {
		r, ok := n.(interface{ Run(context.Context) error })
		if !ok {
			continue
		}
		wg.Go(func() { _ = r.Run(ctx) })
	}
	wg.Wait()
	return nil
}

// New builds the notifiers of tact.toml's [[notify]] entries, whose URLs the caller has
// already resolved (env:/file:). An unknown kind or an unusable URL is an error naming the
// entry. With no entries it returns an empty Multi, which drops events.
func New(entries []config.Notify, log *slog.Logger) (Multi, error) {
	var m Multi
	for i, e := range entries {
		switch e.Kind {
		case "webhook", "":
			u, err := url.Parse(e.URL)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				// Do not echo the URL: webhook URLs carry secrets.
				return nil, fmt.Errorf("[[notify]] #%d: url must be an http:// or https:// URL", i+1)
			}
			m = append(m, NewWebhook(e.URL, WebhookOptions{Logger: log}))
		default:
			return nil, fmt.Errorf("[[notify]] #%d: unknown kind %q (known: webhook)", i+1, e.Kind)
		}
	}
	return m, nil
}
