package storetest

import (
	"bytes"
	"testing"
	"time"

	"github.com/tact-hq/tact/daemon/queue"
)

// sealed is a credential as the daemon hands it to the store: ciphertext only.
func sealed(account string, ciphertext string) *queue.Credential {
	return &queue.Credential{Account: account, Kind: queue.CredentialOAuth, Ciphertext: []byte(ciphertext), Nonce: []byte("nonce-123456"),
		KeyID: "k1", Version: 1, Subject: "@brand@social.example", Refreshable: true,
		ExpiresAt: Start.Add(2 * time.Hour), RefreshExpiresAt: Start.Add(90 * 24 * time.Hour)}
}

func testCredentialLifecycle(t *testing.T, open Opener) {
	e := setup(t, open)
	wantField(t, e.s.SaveCredential(e.ctx, ann, &queue.Credential{Kind: queue.CredentialOAuth}), "account")
	wantField(t, e.s.SaveCredential(e.ctx, ann, &queue.Credential{Account: "a", Kind: "cookie", Ciphertext: []byte("x"), Nonce: []byte("n"), KeyID: "k", Version: 1}), "kind")
	wantField(t, e.s.SaveCredential(e.ctx, ann, &queue.Credential{Account: "a", Kind: queue.CredentialOAuth, KeyID: "k", Version: 1}), "ciphertext")
	wantField(t, e.s.SaveCredential(e.ctx, ann, &queue.Credential{Account: "a", Kind: queue.CredentialOAuth, Ciphertext: []byte("x"), Nonce: []byte("n")}), "key_id")
	_, err := e.s.Credential(e.ctx, "brand")
	wantKind(t, err, queue.NotFound, "brand", "not connected")

	c := sealed("brand", "sealed-1")
	e.must(e.s.SaveCredential(e.ctx, ann, c))
	if c.Revision != 1 || !c.ConnectedAt.Equal(e.now()) || !c.IssuedAt.Equal(e.now()) || c.ConnectedBy != "ann" {
		t.Fatalf("saved: %+v", c)
	}
	got, err := e.s.Credential(e.ctx, "brand")
	e.must(err)
	if !bytes.Equal(got.Ciphertext, []byte("sealed-1")) || !bytes.Equal(got.Nonce, c.Nonce) || got.KeyID != "k1" || got.Version != 1 ||
		got.Subject != c.Subject || !got.Refreshable || !got.ExpiresAt.Equal(c.ExpiresAt) || !got.RefreshExpiresAt.Equal(c.RefreshExpiresAt) ||
		got.Kind != queue.CredentialOAuth || got.Revision != 1 || got.ConnectedBy != "ann" || !got.ConnectedAt.Equal(Start) {
		t.Fatalf("read back %+v, saved %+v", got, c)
	}
	e.auditHas(ann, "account.connect", "account:brand", "connected as @brand@social.example")

	// A refresh: compare-and-set on the revision read.
	e.clock.Advance(90 * time.Minute)
	rot := *got
	rot.Ciphertext, rot.ExpiresAt = []byte("sealed-2"), e.now().Add(2*time.Hour)
	e.must(e.s.RotateCredential(e.ctx, &rot))
	if rot.Revision != 2 || !rot.IssuedAt.Equal(e.now()) || !rot.RefreshedAt.Equal(e.now()) || !bytes.Equal(rot.Ciphertext, []byte("sealed-2")) ||
		!rot.ConnectedAt.Equal(Start) || rot.ConnectedBy != "ann" {
		t.Fatalf("rotated: %+v", rot)
	}
	stale := *got // still revision 1
	stale.Ciphertext = []byte("sealed-stale")
	wantKind(t, e.s.RotateCredential(e.ctx, &stale), queue.Conflict, "brand")
	wantKind(t, e.s.RefreshFailed(e.ctx, "brand", 1, "late", true), queue.Conflict)
	if now, _ := e.s.Credential(e.ctx, "brand"); !bytes.Equal(now.Ciphertext, []byte("sealed-2")) || now.NeedsPerson {
		t.Fatalf("a stale rotation or failure changed the row: %+v", now)
	}
	wantKind(t, e.s.RotateCredential(e.ctx, sealed("nobody", "x")), queue.NotFound)

	// A failed refresh that may work later, then one the network refused.
	e.clock.Advance(time.Minute)
	e.must(e.s.RefreshFailed(e.ctx, "brand", 2, "retryable: 503 from the token endpoint", false))
	got, _ = e.s.Credential(e.ctx, "brand")
	if got.NeedsPerson || got.RefreshError != "retryable: 503 from the token endpoint" || !got.RefreshErrorAt.Equal(e.now()) || got.Revision != 3 {
		t.Fatalf("after a retryable failure: %+v", got)
	}
	e.must(e.s.RefreshFailed(e.ctx, "brand", 3, "auth: invalid_grant", true))
	got, _ = e.s.Credential(e.ctx, "brand")
	if !got.NeedsPerson || got.RefreshError != "auth: invalid_grant" {
		t.Fatalf("after a refused refresh: %+v", got)
	}
	e.auditHas(queue.System("connect"), "account.needs_connect", "account:brand", "invalid_grant")

	// Connecting again clears it all, and a refresh of the old tokens is refused.
	e.clock.Advance(time.Hour)
	again := sealed("brand", "sealed-3")
	e.must(e.s.SaveCredential(e.ctx, bob, again))
	got, _ = e.s.Credential(e.ctx, "brand")
	if got.NeedsPerson || got.RefreshError != "" || !got.RefreshErrorAt.IsZero() || !got.RefreshedAt.IsZero() || got.ConnectedBy != "bob" ||
		!got.ConnectedAt.Equal(e.now()) || got.Revision <= 4 {
		t.Fatalf("after connecting again: %+v", got)
	}
	old := rot
	wantKind(t, e.s.RotateCredential(e.ctx, &old), queue.Conflict)

	e.must(e.s.SaveCredential(e.ctx, ann, &queue.Credential{Account: "alpha", Kind: queue.CredentialPassword, Ciphertext: []byte("p"), Nonce: []byte("n"), KeyID: "k1", Version: 1, Subject: "brand.bsky.social"}))
	all, err := e.s.Credentials(e.ctx)
	e.must(err)
	if len(all) != 2 || all[0].Account != "alpha" || all[0].Kind != queue.CredentialPassword || !all[0].ExpiresAt.IsZero() || all[1].Account != "brand" {
		t.Fatalf("Credentials = %+v", all)
	}
}

func testAccountActivity(t *testing.T, open Opener) {
	e := setup(t, open)
	c := e.campaign()
	acct := c.Accounts[0]
	got, err := e.s.AccountActivity(e.ctx, []string{acct, "quiet"})
	e.must(err)
	if len(got) != 2 || !got[0].LastPublishedAt.IsZero() || got[0].LastError != "" || got[1].Account != "quiet" {
		t.Fatalf("before any publish: %+v", got)
	}
	for i, o := range []queue.Outcome{
		{State: queue.DeliveryPublished, RemoteID: "r1"},
		{State: queue.DeliveryFailed, Error: "permanent: 422 text too long"},
		{State: queue.DeliveryPublished, RemoteID: "r2"},
	} {
		p := e.post(c, -time.Second)
		e.apply(p, queue.EventApprove, "")
		cs := e.claim(1)
		if len(cs) != 1 {
			t.Fatalf("publish %d: claimed %d", i, len(cs))
		}
		e.clock.Advance(time.Minute)
		e.must(e.s.Finish(e.ctx, cs[0].Delivery.ID, o))
		e.clock.Advance(time.Minute)
	}
	got, err = e.s.AccountActivity(e.ctx, []string{acct})
	e.must(err)
	if len(got) != 1 || !got[0].LastPublishedAt.Equal(Start.Add(5*time.Minute)) || got[0].LastError != "permanent: 422 text too long" || !got[0].LastErrorAt.Equal(Start.Add(2*time.Minute)) {
		t.Fatalf("activity %+v", got)
	}
}
