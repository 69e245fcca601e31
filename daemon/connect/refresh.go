package connect

import (
	"context"
	"time"

	"github.com/tact-hq/tact/daemon/clock"
	"github.com/tact-hq/tact/daemon/queue"
	"github.com/tact-hq/tact/plugins/sdk"
)

// idleCheck is how often the loop looks at the credentials when none is due: a new
// connection wakes it at once, so this only bounds a missed wake.
const idleCheck = time.Hour

// Run refreshes OAuth tokens before they expire (queue.Credential.RefreshAt), until ctx
// ends: it stores the rotated credentials first (a network that rotates refresh tokens
// voids the old one), then hands them to the account's process. A refresh the network
// refuses (sdk.Auth) marks the account as needing a person; other failures are tried
// again after RefreshRetry.
func (s *Service) Run(ctx context.Context) error {
	if s.sealer == nil {
		<-ctx.Done()
		return ctx.Err()
	}
	for {
		next := s.RefreshDue(ctx)
		var t clock.Timer
		if next.IsZero() {
			t = s.opt.Clock.NewTimer(idleCheck)
		} else {
			t = clock.Until(s.opt.Clock, next)
		}
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C():
		case <-s.wake:
			t.Stop()
		}
	}
}

// RefreshDue refreshes every credential due now, hands over those the account's process
// has not taken, and returns when the next is due (zero: none).
func (s *Service) RefreshDue(ctx context.Context) time.Time {
	cs, err := s.opt.Store.Credentials(ctx)
	if err != nil {
		if ctx.Err() == nil {
			s.log.Error("connect: reading the credentials to refresh", "err", err)
		}
		return s.opt.Clock.Now().Add(RefreshRetry)
	}
	var next time.Time
	soonest := func(t time.Time) {
		if !t.IsZero() && (next.IsZero() || t.Before(next)) {
			next = t
		}
	}
	for _, c := range cs {
		if ctx.Err() != nil {
			return time.Time{}
		}
		now := s.opt.Clock.Now()
		due := refreshTime(c)
		if !due.IsZero() && !now.Before(due) {
			s.refresh(ctx, c)
			if fresh, err := s.opt.Store.Credential(ctx, c.Account); err == nil {
				c = fresh
			}
			due = refreshTime(c)
		} else if s.isUnapplied(c.Account) {
			if settings, err := s.sealer.Open(c); err == nil {
				_ = s.apply(ctx, c.Account, settings)
			}
		}
		soonest(due)
		if s.isUnapplied(c.Account) {
			soonest(s.opt.Clock.Now().Add(RefreshRetry))
		}
	}
	return next
}

// refreshTime is when c is next refreshed: its RefreshAt, but not sooner than
// RefreshRetry after the last attempt, failed or not (a network that answers tokens
// already about to expire is not asked again in a loop).
func refreshTime(c *queue.Credential) time.Time {
	at := c.RefreshAt()
	if at.IsZero() {
		return at
	}
	last := c.RefreshedAt
	if c.RefreshError != "" && c.RefreshErrorAt.After(last) {
		last = c.RefreshErrorAt
	}
	if !last.IsZero() {
		if retry := last.Add(RefreshRetry); retry.After(at) {
			return retry
		}
	}
	return at
}

func (s *Service) isUnapplied(account string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.unapplied[account]
}

// refresh refreshes one credential.
func (s *Service) refresh(ctx context.Context, c *queue.Credential) {
	log := s.log.With("account", c.Account)
	settings, err := s.sealer.Open(c)
	if err != nil {
		s.failed(ctx, c, err.Error(), true)
		return
	}
	old, err := sdk.CredentialsFrom(settings)
	if err != nil {
		s.failed(ctx, c, err.Error(), true)
		return
	}
	old.Extra = extras(settings)
	az, err := s.opt.Plugins.Authorizer(c.Account)
	if err != nil {
		s.failed(ctx, c, err.Error(), false)
		return
	}
	cr, err := az.Refresh(ctx, old)
	if err != nil {
		if ctx.Err() != nil {
			return // shutting down: not the network's failure
		}
		refused := sdk.KindOf(err) == sdk.Auth
		s.failed(ctx, c, err.Error(), refused)
		if refused {
			log.Error("connect: the network refused to refresh the token: the account needs a person to connect it again", "err", err)
		} else {
			log.Warn("connect: refreshing the token failed; tried again", "err", err, "in", RefreshRetry)
		}
		return
	}
	// What the network did not send again stays as it was (a refresh token that is not
	// rotated, the subject).
	if cr.RefreshToken == "" {
		cr.RefreshToken, cr.RefreshExpiresAt = old.RefreshToken, old.RefreshExpiresAt
	}
	if cr.Subject == "" {
		cr.Subject = old.Subject
	}
	if cr.Extra == nil {
		cr.Extra = old.Extra
	}
	next := sdk.CredentialSettings(cr)
	rot := *c
	rot.Subject, rot.Refreshable, rot.ExpiresAt, rot.RefreshExpiresAt = cr.Subject, cr.RefreshToken != "", cr.ExpiresAt, cr.RefreshExpiresAt
	if err := s.sealer.Seal(&rot, next); err != nil {
		s.failed(ctx, c, err.Error(), false)
		return
	}
	if err := s.opt.Store.RotateCredential(ctx, &rot); err != nil {
		if queue.ErrorKind(err) != queue.Conflict {
			log.Error("connect: storing refreshed credentials", "err", err)
		}
		return
	}
	log.Info("connect: token refreshed", "token_expires_at", rot.ExpiresAt)
	_ = s.apply(ctx, c.Account, next)
}

func (s *Service) failed(ctx context.Context, c *queue.Credential, msg string, needsPerson bool) {
	if err := s.opt.Store.RefreshFailed(ctx, c.Account, c.Revision, clip(msg, 500), needsPerson); err != nil && queue.ErrorKind(err) != queue.Conflict {
		s.log.Error("connect: recording a failed refresh", "account", c.Account, "err", err)
	}
}
