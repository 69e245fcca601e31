package facebook

import "github.com/tact-hq/tact/plugins/internal/journal"

// attempt is what the send journal keeps of one idempotency key: besides the key, time
// and answer (a receipt, or Refused when Facebook's error says no post was made), what
// Lookup needs to recognise the post among the Page's recent ones.
type attempt struct {
	journal.Attempt
	Page string `json:"page"` // the Page it was sent to
	Hash string `json:"hash"` // textHash of its text
	Kind string `json:"kind"` // shape.kind of what it carried
}

// journalOptions name the journal in its error messages.
var journalOptions = journal.Options{Plugin: "facebook"}
