package x

import "github.com/tact-hq/tact/plugins/internal/journal"

// journalName is the journal's file in state_dir (one account per state_dir).
const journalName = "x-journal.jsonl"

// attempt is what the send journal keeps of one idempotency key: besides the key, time
// and answer (a receipt, or Refused when X refused it), what Lookup needs to recognise the
// post in the user's timeline.
type attempt struct {
	journal.Attempt
	User  string `json:"user"`  // the X user id it was sent as
	Text  string `json:"text"`  // the text sent
	Media int    `json:"media"` // attachments sent
}

// journalOptions name the journal in its error messages.
var journalOptions = journal.Options{Plugin: "x", Noun: "the journal"}
