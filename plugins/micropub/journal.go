package micropub

import "github.com/tact-hq/tact/plugins/internal/journal"

// attempt is what the send journal keeps of one idempotency key: besides the key, time
// and answer, the slug by which Lookup finds the post in the site's q=source listing.
type attempt struct {
	journal.Attempt
	Slug string `json:"slug"` // the mp-slug it carried
}

// journalOptions name the journal in its error messages.
var journalOptions = journal.Options{Plugin: "micropub"}
