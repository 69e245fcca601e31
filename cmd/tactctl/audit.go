package main

import (
	"context"
	"fmt"
	"net/url"
	"strconv"

	"github.com/tact-hq/tact/daemon/api"
	"github.com/tact-hq/tact/daemon/queue"
)

func init() {
	register("audit", "who did what and when: audit [--since 24h]", auditCmd)
}

func auditCmd(ctx context.Context, a *App, args []string) error {
	fs := a.flags("audit", "audit [--since 24h] [--limit 200]")
	since := fs.String("since", "24h", "how far back: a duration such as 24h or 168h, or an RFC 3339 time")
	limit := fs.Int("limit", 200, "show at most this many entries (newest first)")
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usageError(fs, "unexpected arguments %q", rest)
	}
	if *limit < 1 {
		return usageError(fs, "--limit must be at least 1")
	}
	q := url.Values{"since": {*since}, "limit": {strconv.Itoa(*limit)}}
	raw, err := a.get(ctx, "/api/v1/audit?"+q.Encode())
	if err != nil {
		return err
	}
	var l api.List[queue.AuditEntry]
	if printed, err := a.printJSONOr(raw, &l); printed || err != nil {
		return err
	}
	if len(l.Items) == 0 {
		fmt.Fprintf(a.Stdout, "nothing in the audit log since %s\n", *since)
		return nil
	}
	t := newTable(a.Stdout, "WHEN", "WHO", "ACTION", "OBJECT", "DETAIL")
	for _, e := range l.Items {
		t.row(when(e.At, ""), e.Actor.String(), e.Action, e.Object, clip(orDash(e.Detail), 90))
	}
	return t.flush()
}
