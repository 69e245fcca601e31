package publish

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/tact-hq/tact/daemon/notify"
	"github.com/tact-hq/tact/daemon/queue"
	"github.com/tact-hq/tact/plugins/sdk"
)

// recordTimeout bounds one attempt at recording an outcome.
const recordTimeout = 30 * time.Second

func (p *Publisher) claimLog(c *queue.Claim) *slog.Logger {
	return p.log.With("post_id", c.Post.ID, "campaign_id", c.Campaign.ID, "campaign", c.Campaign.Name,
		"account", c.Delivery.Account, "delivery_id", c.Delivery.ID, "attempt", c.Delivery.Attempts)
}

// publish sends one claimed delivery and records what happened.
func (p *Publisher) publish(work context.Context, c *queue.Claim) {
	d := c.Delivery
	log := p.claimLog(c)
	start := p.clk.Now()
	claimed := d.StartedAt // when the claim committed: the attempt's real start
	if claimed.IsZero() {
		claimed = start
	}
	lateness := max(claimed.Sub(c.Post.DueAt), 0)

	var (
		r       sdk.Receipt
		err     error
		timeout bool
	)
	net, nerr := p.networks.Network(d.Account)
	post, perr := p.toSDK(c.Post)
	switch {
	case nerr != nil:
		// Publish was not called: safe to retry like any retryable error.
		err = &sdk.Error{Kind: sdk.Retryable, Message: fmt.Sprintf("account %s has no working plugin: %v", d.Account, nerr)}
	case perr != nil:
		err = perr // Publish was not called
	default:
		call, cancel := context.WithTimeout(work, p.callTimeout)
		r, err = net.Publish(call, post, d.IdempotencyKey)
		timeout = errors.Is(call.Err(), context.DeadlineExceeded)
		cancel()
	}

	var outcome string
	var typed *sdk.Error
	isTyped := errors.As(err, &typed)
	switch {
	case err == nil:
		outcome = p.published(work, log, c, r, "")
	case p.unknownErr(err) || !isTyped && (timeout || errors.Is(err, context.DeadlineExceeded)):
		// The call may or may not have reached the network.
		if work.Err() != nil {
			outcome = p.interrupted(log, err)
			break
		}
		log.Warn("publish outcome unknown: asking the network", "err", err)
		outcome = p.resolve(work, log, c, err)
	case isTyped: // the network's own answer
		outcome = p.failedWith(work, log, c, typed)
	case work.Err() != nil:
		outcome = p.interrupted(log, err)
	default: // untyped errors are retryable (sdk.KindOf)
		outcome = p.failedWith(work, log, c, &sdk.Error{Kind: sdk.Retryable, Message: err.Error()})
	}
	if p.observer != nil {
		p.observer.PublishDone(d.Account, p.clk.Now().Sub(start), lateness, outcome)
	}
}

func (p *Publisher) interrupted(log *slog.Logger, err error) string {
	log.Warn("publish interrupted by shutdown: left publishing; the next start resolves it through Lookup", "err", err)
	return OutcomeInterrupted
}

// published records a receipt. via says how it was learnt ("" for Publish itself).
func (p *Publisher) published(work context.Context, log *slog.Logger, c *queue.Claim, r sdk.Receipt, via string) string {
	log.Info("published"+via, "remote_id", r.RemoteID, "url", r.URL)
	p.finish(work, log, c, queue.Outcome{State: queue.DeliveryPublished, RemoteID: r.RemoteID, URL: r.URL}, nil)
	p.mu.Lock()
	wasUnhealthy := p.unhealthy[c.Delivery.Account]
	delete(p.unhealthy, c.Delivery.Account)
	p.mu.Unlock()
	if wasUnhealthy {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(work), recordTimeout)
		defer cancel()
		if err := p.store.SetAccountStatus(ctx, queue.AccountStatus{Account: c.Delivery.Account, Healthy: true, Detail: "published again"}); err != nil {
			log.Error("could not record the account as healthy again", "err", err)
		}
	}
	return OutcomePublished
}

// failedWith maps a typed plugin error to the delivery's next state.
func (p *Publisher) failedWith(work context.Context, log *slog.Logger, c *queue.Claim, e *sdk.Error) string {
	d := c.Delivery
	switch e.Kind {
	case sdk.Auth:
		log.Warn("account needs attention: post held", "err", e)
		p.mu.Lock()
		known := p.unhealthy[d.Account]
		p.unhealthy[d.Account] = true
		p.mu.Unlock()
		// People hear about the account once, then about each further post it holds.
		ev := p.event(c, notify.AccountAttention, fmt.Sprintf("Account %s needs attention: %s. Post %d of campaign %s is held until a person fixes the account and releases it.",
			d.Account, e.Message, c.Post.ID, c.Campaign.Name))
		if known {
			ev = p.event(c, notify.PostHeld, fmt.Sprintf("Post %d of campaign %s is held: account %s still needs attention (%s).",
				c.Post.ID, c.Campaign.Name, d.Account, e.Message))
		}
		p.finish(work, log, c, queue.Outcome{State: queue.DeliveryWaiting, AuthError: true, Error: e.Error()}, ev)
		return OutcomeAuth
	case sdk.Permanent:
		log.Warn("publish refused by the network", "err", e)
		p.finish(work, log, c, queue.Outcome{State: queue.DeliveryFailed, Error: e.Error()},
			p.event(c, notify.PostFailed, fmt.Sprintf("Post %d of campaign %s was refused by %s: %s.", c.Post.ID, c.Campaign.Name, d.Account, e.Message)))
		return OutcomeFailed
	default: // Retryable, RateLimited, and kinds this daemon does not know yet
		if e.Kind == sdk.RateLimited && e.RetryAfter > 0 {
			cd := cooldown{from: d.StartedAt, until: p.clk.Now().Add(e.RetryAfter)}
			if cd.from.IsZero() {
				cd.from = p.clk.Now()
			}
			p.mu.Lock()
			if cd.until.After(p.cooldown[d.Account].until) {
				p.cooldown[d.Account] = cd
			}
			p.mu.Unlock()
		}
		return p.retryOrFail(work, log, c, e.Error(), e.RetryAfter)
	}
}

// retryOrFail schedules another attempt, or fails the delivery once MaxAttempts are spent.
func (p *Publisher) retryOrFail(work context.Context, log *slog.Logger, c *queue.Claim, msg string, retryAfter time.Duration) string {
	d := c.Delivery
	if d.Attempts >= p.maxAttempts {
		log.Warn("publish failed: attempts spent", "err", msg)
		p.finish(work, log, c, queue.Outcome{State: queue.DeliveryFailed, Error: fmt.Sprintf("gave up after %d attempts: %s", d.Attempts, msg)},
			p.event(c, notify.PostFailed, fmt.Sprintf("Post %d of campaign %s could not be published to %s after %d attempts: %s.",
				c.Post.ID, c.Campaign.Name, d.Account, d.Attempts, msg)))
		return OutcomeFailed
	}
	at := p.clk.Now().Add(p.backoff.Delay(d.Attempts, retryAfter))
	log.Info("publish will be retried", "err", msg, "retry_at", at)
	p.finish(work, log, c, queue.Outcome{State: queue.DeliveryWaiting, Error: msg, RetryAt: at}, nil)
	return OutcomeRetry
}

// resolve asks the network, through Lookup, whether a publish whose outcome is unknown
// arrived. It retries Lookup with backoff (the host may be restarting the plugin).
func (p *Publisher) resolve(work context.Context, log *slog.Logger, c *queue.Claim, cause error) string {
	d := c.Delivery
	delay := p.lookupDelay
	var last error
	for try := 1; try <= p.lookupTries; try++ {
		if try > 1 {
			if !p.sleep(work, delay) {
				return p.interrupted(log, last)
			}
			delay *= 2
		}
		net, err := p.networks.Network(d.Account)
		if err == nil {
			call, cancel := context.WithTimeout(work, p.callTimeout)
			var (
				r     sdk.Receipt
				found bool
			)
			r, found, err = net.Lookup(call, d.IdempotencyKey)
			cancel()
			if err == nil && found {
				return p.published(work, log, c, r, " (found by Lookup)")
			}
			if err == nil {
				log.Info("the network says the publish never arrived")
				return p.retryOrFail(work, log, c, fmt.Sprintf("not published (Lookup found no post for key %s after: %v)", d.IdempotencyKey, cause), 0)
			}
		}
		if work.Err() != nil {
			return p.interrupted(log, err)
		}
		last = err
		log.Warn("lookup failed", "try", try, "of", p.lookupTries, "err", err)
		if sdk.KindOf(err) == sdk.Permanent || sdk.KindOf(err) == sdk.Auth {
			// The network said it cannot tell (no lookup support), or the account needs a
			// person: asking again will not change the answer.
			break
		}
	}
	msg := fmt.Sprintf("outcome unknown: %v; Lookup could not tell: %v", cause, last)
	p.finish(work, log, c, queue.Outcome{State: queue.DeliveryUnknown, Error: msg},
		p.event(c, notify.PostUnknown, fmt.Sprintf("Nobody can tell whether post %d of campaign %s reached %s (%v). Check the account, then mark the post published, or retry it.",
			c.Post.ID, c.Campaign.Name, d.Account, last)))
	return OutcomeUnknown
}

// recoverOne resolves a delivery found publishing at start.
func (p *Publisher) recoverOne(work context.Context, c *queue.Claim) {
	log := p.claimLog(c)
	log.Info("resolving a delivery left publishing")
	start := p.clk.Now()
	outcome := p.resolve(work, log, c, errors.New("the daemon stopped while publishing"))
	if p.observer != nil {
		p.observer.PublishDone(c.Delivery.Account, p.clk.Now().Sub(start), max(start.Sub(c.Post.DueAt), 0), outcome)
	}
}

// sleep waits d on the clock; false if work was cancelled first.
func (p *Publisher) sleep(work context.Context, d time.Duration) bool {
	t := p.clk.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C():
		return true
	case <-work.Done():
		return false
	}
}

func (p *Publisher) event(c *queue.Claim, kind, text string) *notify.Event {
	return &notify.Event{Kind: kind, Text: text, CampaignID: c.Campaign.ID, Campaign: c.Campaign.Name,
		PostID: c.Post.ID, Account: c.Delivery.Account}
}

// finish records o, then tells people about ev. A failure to record is retried on the next
// wakes; if the daemon dies first, the delivery is still publishing and the next start
// resolves it through Lookup.
func (p *Publisher) finish(work context.Context, log *slog.Logger, c *queue.Claim, o queue.Outcome, ev *notify.Event) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(work), recordTimeout)
	defer cancel()
	if err := p.record(ctx, log, unfinished{claim: c, out: o, event: ev}); err != nil {
		p.mu.Lock()
		p.unfinished = append(p.unfinished, unfinished{claim: c, out: o, event: ev})
		p.mu.Unlock()
	}
}

// record stores one outcome; only a failure worth retrying is returned.
func (p *Publisher) record(ctx context.Context, log *slog.Logger, u unfinished) error {
	err := p.store.Finish(ctx, u.claim.Delivery.ID, u.out)
	switch {
	case err == nil:
	case queue.ErrorKind(err) == queue.Conflict || queue.ErrorKind(err) == queue.NotFound || queue.ErrorKind(err) == queue.Invalid:
		log.Error("outcome not recorded: the delivery changed meanwhile", "state", u.out.State, "err", err)
		return nil
	default:
		log.Error("could not record the outcome; will try again", "state", u.out.State, "err", err)
		return err
	}
	if u.event != nil {
		e := *u.event
		e.At = p.clk.Now()
		p.notifier.Notify(ctx, e)
	}
	return nil
}

func (p *Publisher) retryUnfinished(ctx context.Context) {
	p.mu.Lock()
	us := p.unfinished
	p.unfinished = nil
	p.mu.Unlock()
	var left []unfinished
	for _, u := range us {
		if err := p.record(ctx, p.claimLog(u.claim), u); err != nil {
			left = append(left, u)
		}
	}
	if len(left) > 0 {
		p.mu.Lock()
		p.unfinished = append(left, p.unfinished...)
		p.mu.Unlock()
	}
}

// toSDK is the post as a network sees it, with the bytes of its attachments. An
// attachment that is gone or is not an upload's id fails the delivery for good (a person
// must attach it again); one that cannot be read now is retried.
func (p *Publisher) toSDK(post *queue.Post) (sdk.Post, error) {
	out := sdk.Post{Text: post.Text, Link: post.Link}
	if len(post.Media) == 0 {
		return out, nil
	}
	if p.media == nil {
		return out, &sdk.Error{Kind: sdk.Retryable, Message: "this daemon has no media storage configured, and the post has attachments"}
	}
	var total int64
	for i, id := range post.Media {
		data, info, err := p.media.Read(fmt.Sprintf("media[%d]", i), id)
		if err != nil {
			kind := sdk.Retryable
			if k := queue.ErrorKind(err); k == queue.NotFound || k == queue.Invalid {
				kind = sdk.Permanent
			}
			return out, &sdk.Error{Kind: kind, Message: fmt.Sprintf("attachment media[%d]: %v", i, err)}
		}
		total += info.Size
		if total > sdk.MaxMessageBytes-1<<20 {
			return out, &sdk.Error{Kind: sdk.Permanent, Message: fmt.Sprintf("the attachments add up to more than %d MiB, more than one plugin call carries; use fewer or smaller files", sdk.MaxMessageBytes>>20-1)}
		}
		out.Media = append(out.Media, sdk.Media{ID: info.ID, MimeType: info.Type, Size: info.Size,
			Width: info.Width, Height: info.Height, Data: data})
	}
	return out, nil
}
