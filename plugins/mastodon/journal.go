package mastodon

import (
	"github.com/tact-hq/tact/plugins/internal/journal"
)

// attempt is what the send journal keeps of one idempotency key: besides the key, time
// and answer, what Lookup needs to recognise the status among the account's recent ones.
type attempt struct {
	journal.Attempt
	Hash  string `json:"hash"`  // textHash of the text sent
	Media int    `json:"media"` // attachments sent
}

// journalOptions name the journal in its error messages.
var journalOptions = journal.Options{Plugin: "mastodon"}
