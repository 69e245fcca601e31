package api

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strconv"
	"time"

	"github.com/tact-hq/tact/daemon/media"
	"github.com/tact-hq/tact/daemon/queue"
	"github.com/tact-hq/tact/plugins/sdk"
)

// MediaStore keeps uploaded attachments (daemon/media.Store).
type MediaStore interface {
	Put(r io.Reader) (media.Info, bool, error)
	Stat(field, id string) (media.Info, error)
	Open(field, id string) (io.ReadSeekCloser, media.Info, error)
	MaxBytes() int64
}

// MediaFetcher downloads an attachment once from a public URL (daemon/media.Fetcher).
type MediaFetcher interface {
	Fetch(ctx context.Context, field, url string) (media.Info, bool, error)
}

// MaxAttachments bounds the media ids one post may name, whatever its networks take.
const MaxAttachments = 16

// MediaURLInput asks the daemon to fetch an attachment from a public URL, once.
type MediaURLInput struct {
	URL string `json:"url"`
}

// MediaView is a stored attachment as the API shows it.
type MediaView struct {
	media.Info
	// URL is where the API serves its bytes.
	URL string `json:"url"`
}

// uploadMedia stores an attachment: the request body itself (any Content-Type but the two
// below; the type is sniffed from the bytes), the part named "file" of a
// multipart/form-data body, or, as JSON {"url": ...}, a file the daemon fetches once from a
// public server. Stored bytes answer 201, bytes already stored 200, with the same id.
func (s *server) uploadMedia(w http.ResponseWriter, r *http.Request, u *queue.User) error {
	if s.opt.Media == nil {
		return unavailable("media storage")
	}
	max := s.opt.Media.MaxBytes()
	// Room for a multipart envelope around the largest file.
	r.Body = http.MaxBytesReader(w, r.Body, max+64<<10)
	var (
		info    media.Info
		created bool
		err     error
	)
	mt, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch mt {
	case "application/json":
		var in MediaURLInput
		if err := s.decode(w, r, &in, false); err != nil {
			return err
		}
		if in.URL == "" {
			return queue.Errorf(queue.Invalid, "url", "url is required: the http(s) address of the image, or upload the file's bytes instead")
		}
		if s.opt.MediaFetcher == nil {
			return unavailable("fetching media from a URL")
		}
		info, created, err = s.opt.MediaFetcher.Fetch(r.Context(), "url", in.URL)
	case "multipart/form-data":
		info, created, err = s.uploadPart(r, params["boundary"])
	default:
		info, created, err = s.opt.Media.Put(r.Body)
	}
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return queue.Errorf(queue.TooLarge, "file", "the file is larger than %s, the most tact stores ([daemon] media_max_bytes); make it smaller", byteSize(max))
		}
		return err
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
		s.log.Info("media stored", "id", info.ID, "type", info.Type, "size", info.Size, "user", u.Name)
	}
	view := MediaView{Info: info, URL: "/api/v1/media/" + info.ID}
	w.Header().Set("Location", view.URL)
	writeJSON(w, status, view)
	return nil
}

// uploadPart stores the first part named "file" of a multipart body, streamed.
func (s *server) uploadPart(r *http.Request, boundary string) (media.Info, bool, error) {
	if boundary == "" {
		return media.Info{}, false, queue.Errorf(queue.Invalid, "file", "the multipart/form-data body has no boundary; send the form as a browser or curl -F does")
	}
	mr := multipart.NewReader(r.Body, boundary)
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			return media.Info{}, false, queue.Errorf(queue.Invalid, "file", `the form has no part named "file"; send the image as file=@PATH`)
		}
		if err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				return media.Info{}, false, mbe
			}
			return media.Info{}, false, queue.Errorf(queue.Invalid, "file", "the multipart/form-data body is malformed (%v); send the form again", err)
		}
		if part.FormName() == "file" {
			defer part.Close()
			return s.opt.Media.Put(part)
		}
		part.Close()
	}
}

// serveMedia answers an attachment's bytes, with the type sniffed when it was stored and
// headers that keep a browser from running or re-typing it.
func (s *server) serveMedia(w http.ResponseWriter, r *http.Request, _ *queue.User) error {
	if s.opt.Media == nil {
		return unavailable("media storage")
	}
	f, info, err := s.opt.Media.Open("id", r.PathValue("id"))
	if err != nil {
		return err
	}
	defer f.Close()
	ServeAttachment(w, r, f, info)
	return nil
}

// ServeAttachment writes a stored attachment (the web UI serves thumbnails with it too).
// Its id is its hash, so it never changes: clients may keep it.
func ServeAttachment(w http.ResponseWriter, r *http.Request, f io.ReadSeeker, info media.Info) {
	h := w.Header()
	h.Set("Content-Type", info.Type)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	h.Set("Cache-Control", "private, max-age=31536000, immutable")
	h.Set("ETag", strconv.Quote(info.ID))
	h.Set("Content-Disposition", "inline; filename="+strconv.Quote(sdk.FileName(sdk.Media{ID: info.ID, MimeType: info.Type})))
	http.ServeContent(w, r, "", time.Time{}, f)
}

// attachments describes the stored attachments ids names, for the plugins' Validate.
// Anything that is not the id of an upload is refused, naming its place in the list.
func (b *PostBuilder) attachments(ids []string) ([]sdk.Media, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	if len(ids) > MaxAttachments {
		return nil, queue.Errorf(queue.Invalid, "media", "a post may carry at most %d attachments, this one names %d", MaxAttachments, len(ids))
	}
	if b.Media == nil {
		return nil, unavailable("media storage")
	}
	seen := map[string]bool{}
	out := make([]sdk.Media, 0, len(ids))
	for i, id := range ids {
		field := fmt.Sprintf("media[%d]", i)
		if seen[id] {
			return nil, queue.Errorf(queue.Invalid, field, "attachment %s is named twice; name each once", id)
		}
		seen[id] = true
		info, err := b.Media.Stat(field, id)
		if queue.ErrorKind(err) == queue.NotFound {
			// The request is at fault, not the route: 400 like any bad field.
			return nil, queue.Errorf(queue.Invalid, field, "%s", err.Error())
		}
		if err != nil {
			return nil, err
		}
		out = append(out, sdk.Media{ID: info.ID, MimeType: info.Type, Size: info.Size, Width: info.Width, Height: info.Height})
	}
	return out, nil
}
