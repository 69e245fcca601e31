package linkedin

import "github.com/tact-hq/tact/plugins/internal/journal"

// attempt is what the send journal keeps of one idempotency key: besides the key, time
// and answer, what Lookup needs to recognise the post among the author's recent ones.
type attempt struct {
	journal.Attempt
	Author  string `json:"author"`  // the URN it was sent as
	Hash    string `json:"hash"`    // textHash of the commentary as a reader sees it
	Content string `json:"content"` // contentKind of what it carried
}

// journalOptions name the journal in its error messages.
var journalOptions = journal.Options{Plugin: "linkedin"}
