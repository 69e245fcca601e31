package connect

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"

	"github.com/tact-hq/tact/daemon/queue"
)

// SealVersion is the sealing format of credentials this build writes: AES-256-GCM with a
// random 96-bit nonce, over the JSON of the settings, with sealAAD(account) as associated
// data.
const SealVersion = 1

// Sealer seals and opens accounts' credentials with [daemon] secrets_key. The account's
// name is the associated data, so a ciphertext copied into another account's row does not
// open there.
type Sealer struct {
	aead  cipher.AEAD
	keyID string
}

// NewSealer returns a sealer for a 32-byte key.
func NewSealer(key []byte) (*Sealer, error) {
	if len(key) != 32 {
		return nil, fmt.Errorf("the secrets key is %d bytes; it must be 32", len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &Sealer{aead: aead, keyID: KeyID(key)}, nil
}

// KeyID is the fingerprint of key stored beside what it sealed: the first 8 bytes of a
// SHA-256 over a label and the key, in hex. It tells keys apart and reveals nothing of
// the key.
func KeyID(key []byte) string {
	h := sha256.Sum256(append([]byte("tact secrets_key id\x00"), key...))
	return hex.EncodeToString(h[:8])
}

// ID is the fingerprint of the sealer's key.
func (s *Sealer) ID() string { return s.keyID }

func sealAAD(account string) []byte { return []byte("tact credentials v1\x00" + account) }

// Seal encrypts settings for account into c's Ciphertext, Nonce, KeyID and Version.
func (s *Sealer) Seal(c *queue.Credential, settings map[string]string) error {
	plain, err := json.Marshal(settings)
	if err != nil {
		return err
	}
	nonce := make([]byte, s.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return err
	}
	c.Ciphertext = s.aead.Seal(nil, nonce, plain, sealAAD(c.Account))
	c.Nonce, c.KeyID, c.Version = nonce, s.keyID, SealVersion
	clear(plain)
	return nil
}

// Open decrypts c. An error says why the credentials cannot be read and what to do; it
// never contains any of them.
func (s *Sealer) Open(c *queue.Credential) (map[string]string, error) {
	if c.Version != SealVersion {
		return nil, fmt.Errorf("the credentials of account %q were sealed in format %d, which this tact does not read (it reads %d): upgrade tact, or connect the account again", c.Account, c.Version, SealVersion)
	}
	if c.KeyID != s.keyID {
		return nil, fmt.Errorf("the credentials of account %q were sealed with another secrets_key (key id %s; [daemon] secrets_key now has id %s): put that key back in secrets_key, or connect the account again", c.Account, c.KeyID, s.keyID)
	}
	plain, err := s.aead.Open(nil, c.Nonce, c.Ciphertext, sealAAD(c.Account))
	if err != nil {
		return nil, fmt.Errorf("the credentials of account %q do not open with secrets_key (the row is damaged, or was copied from another account): connect the account again", c.Account)
	}
	var settings map[string]string
	err = json.Unmarshal(plain, &settings)
	clear(plain)
	if err != nil {
		return nil, fmt.Errorf("the credentials of account %q opened but are not a set of settings: connect the account again", c.Account)
	}
	return settings, nil
}
