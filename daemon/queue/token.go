package queue

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
)

// NewToken returns a fresh random API token ("tact_" + 43 URL-safe characters).
func NewToken() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic("tact: no randomness: " + err.Error())
	}
	return "tact_" + base64.RawURLEncoding.EncodeToString(b)
}

// HashToken is how tokens are stored: hex SHA-256. Tokens are long random strings, so a
// fast hash is enough; the store never sees a token itself.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}
