package sdk

import (
	"fmt"
	"mime"
)

// MaxMessageBytes is the largest plugin call the daemon sends and a plugin accepts: a
// Publish carries its attachments' bytes (docs/plugins.md, "Media").
const MaxMessageBytes = 256 << 20

// MediaType is m's MIME type without parameters ("image/png"). The daemon sniffs it from
// the attachment's bytes; it is "" only for a Media a test built without one.
func MediaType(m Media) string {
	t, _, _ := mime.ParseMediaType(m.MimeType)
	return t
}

// MediaData returns the bytes of an attachment in Publish, refusing more than max of them.
// Validate is given the type and Size only; MediaData there (or on a Media without bytes)
// is a Permanent error, as is an attachment over max, which Validate should have reported.
func MediaData(m Media, max int64) ([]byte, error) {
	if len(m.Data) == 0 {
		return nil, Errorf(Permanent, "attachment %s came without its bytes (only Publish carries them)", m.shown())
	}
	if int64(len(m.Data)) > max {
		return nil, Errorf(Permanent, "attachment %s is %d bytes, more than the %d this network takes: use a smaller file", m.shown(), len(m.Data), max)
	}
	return m.Data, nil
}

// FileName is a name for an attachment in a multipart upload: the id's first digits and
// the extension of its type ("3f2a9c1e.png"). Networks want a name; tact has no user's file
// name to give, and would not pass one on if it had.
func FileName(m Media) string {
	name := m.ID
	if len(name) > 12 {
		name = name[:12]
	}
	if name == "" {
		name = "attachment"
	}
	switch MediaType(m) {
	case "image/png":
		return name + ".png"
	case "image/jpeg":
		return name + ".jpg"
	case "image/gif":
		return name + ".gif"
	case "image/webp":
		return name + ".webp"
	case "video/mp4":
		return name + ".mp4"
	}
	return name
}

func (m Media) shown() string {
	if len(m.ID) > 12 {
		return m.ID[:12]
	}
	if m.ID == "" {
		return "(no id)"
	}
	return m.ID
}

// MediaSizeProblem is the problem to report in Validate for an attachment over max bytes
// (field "media[i]"), or nil.
func MediaSizeProblem(i int, m Media, max int64, network string) *Problem {
	if m.Size <= max {
		return nil
	}
	return &Problem{Field: fmt.Sprintf("media[%d]", i), Message: fmt.Sprintf("the file is %s; %s takes at most %s: use a smaller file", byteCount(m.Size), network, byteCount(max))}
}

func byteCount(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}
