package connect

import (
	"bytes"
	"strings"
	"testing"

	"github.com/tact-hq/tact/daemon/queue"
)

// Sealed credentials open only with their key, under their account's name, unaltered;
// each failure says what to do and repeats nothing of them.
func TestSeal(t *testing.T) {
	key := bytes.Repeat([]byte{1}, 32)
	s, err := NewSealer(key)
	if err != nil {
		t.Fatal(err)
	}
	c := &queue.Credential{Account: "brand"}
	secret := map[string]string{"access_token": "tok-0123456789"}
	if err := s.Seal(c, secret); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(c.Ciphertext, []byte("tok-0123456789")) || len(c.Nonce) != 12 || c.KeyID != KeyID(key) || c.Version != SealVersion {
		t.Fatalf("sealed %+v", c)
	}
	got, err := s.Open(c)
	if err != nil || got["access_token"] != "tok-0123456789" {
		t.Fatalf("Open = %v, %v", got, err)
	}
	again := &queue.Credential{Account: "brand"}
	_ = s.Seal(again, secret)
	if bytes.Equal(again.Nonce, c.Nonce) || bytes.Equal(again.Ciphertext, c.Ciphertext) {
		t.Fatal("two seals share a nonce")
	}

	moved := *c
	moved.Account = "other"
	tampered := *c
	tampered.Ciphertext = append([]byte(nil), c.Ciphertext...)
	tampered.Ciphertext[0] ^= 1
	otherKey, _ := NewSealer(bytes.Repeat([]byte{2}, 32))
	future := *c
	future.Version = 2
	for name, tc := range map[string]struct {
		s    *Sealer
		c    *queue.Credential
		want string
	}{
		"another account's row": {s, &moved, "do not open"},
		"altered":               {s, &tampered, "do not open"},
		"another key":           {otherKey, c, "another secrets_key (key id " + KeyID(key)},
		"a newer format":        {s, &future, "format 2"},
	} {
		_, err := tc.s.Open(tc.c)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "connect the account again") || strings.Contains(err.Error(), "tok-") {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := NewSealer(key[:16]); err == nil {
		t.Error("a 16-byte key was taken")
	}
}
