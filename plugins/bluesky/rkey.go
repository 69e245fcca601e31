package bluesky

import (
	"crypto/sha256"
	"encoding/binary"
	"time"
)

const tidAlphabet = "234567abcdefghijklmnopqrstuvwxyz"

// tidEpoch and tidSpan place every derived record key's timestamp between 2020 and mid-2024:
// always in the past, so no client ever sees a post key "from the future".
var tidEpoch = time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC).UnixMicro()

const tidSpan = 1 << 47 // microseconds, about 4.4 years

// RecordKey derives the post's record key from the daemon's idempotency key. It has the
// syntax of a TID (the key type app.bsky.feed.post declares), so every PDS accepts it, but
// its bits come from a hash of the idempotency key: a second createRecord with the same key
// cannot create a second post, and Lookup can read the record without remembering anything.
// The 47 hash bits of the "timestamp" plus 10 of the clock id make a collision with another
// key or a PDS-made TID negligible.
func RecordKey(idempotencyKey string) string {
	h := sha256.Sum256([]byte("tact/bluesky/rkey\x00" + idempotencyKey))
	ts := uint64(tidEpoch) + binary.BigEndian.Uint64(h[0:8])%tidSpan
	clock := binary.BigEndian.Uint64(h[8:16]) & 0x3ff
	v := ts<<10 | clock // top bit is 0: ts < 2^53
	var out [13]byte
	for i := 12; i >= 0; i-- {
		out[i] = tidAlphabet[v&31]
		v >>= 5
	}
	return string(out[:])
}
