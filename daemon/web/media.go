package web

import (
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/tact-hq/tact/daemon/api"
	"github.com/tact-hq/tact/daemon/media"
	"github.com/tact-hq/tact/daemon/queue"
)

// Attachments enter through the edit page's upload form, as bytes; the daemon never reads a
// path or fetches a URL a person typed (docs/operations.md, "Media").

// uploadLimit is the largest upload form: the media limit and room for the form around it.
func (h *Handler) uploadLimit() int64 {
	if h.opt.Media == nil {
		return maxBody
	}
	return h.opt.Media.MaxBytes() + 1<<20
}

// attachMedia stores the uploaded file and adds it to the post, checked by the networks
// like any edit (an approved post goes back to pending).
func (h *Handler) attachMedia(w http.ResponseWriter, rq *request) {
	h.changeMedia(w, rq, func(p *queue.Post) ([]string, string, bool) {
		f, _, err := rq.FormFile("file")
		if err != nil {
			return nil, "Choose an image or video file to attach.", false
		}
		defer f.Close()
		info, _, err := h.opt.Media.Put(f)
		if err != nil {
			return nil, h.explain(rq.Context(), err, "store the file") + " Nothing was attached.", false
		}
		if slices.Contains(p.Media, info.ID) {
			return nil, "This file is attached already.", false
		}
		return append(slices.Clone(p.Media), info.ID), fmt.Sprintf("Attached the file (%s, %s).", info.Type, sizeText(info.Size)), true
	})
}

// detachMedia removes one attachment from the post.
func (h *Handler) detachMedia(w http.ResponseWriter, rq *request) {
	h.changeMedia(w, rq, func(p *queue.Post) ([]string, string, bool) {
		id := rq.PostFormValue("media")
		i := slices.Index(p.Media, id)
		if i < 0 {
			return nil, "That attachment is not on this post any more.", false
		}
		return slices.Delete(slices.Clone(p.Media), i, i+1), "Removed the attachment.", true
	})
}

// changeMedia applies change to the post's list of attachments, at the version the form
// was opened at, and goes back to the edit page with what happened.
func (h *Handler) changeMedia(w http.ResponseWriter, rq *request, change func(*queue.Post) ([]string, string, bool)) {
	ctx := rq.Context()
	id, ok := pathID(rq)
	if !ok {
		h.fail(w, rq.Request, rq, http.StatusNotFound, "There is no such post.", "Go back to the queue.")
		return
	}
	to := fmt.Sprintf("/posts/%d/edit", id)
	if h.opt.Media == nil {
		h.done(w, rq, to, "error", "Attachments cannot be stored: this daemon has no media storage configured. Ask an admin.")
		return
	}
	p, err := h.opt.Store.Post(ctx, id)
	if err != nil {
		h.postLookupFailed(w, rq, id, err)
		return
	}
	if v := formVersion(rq); v > 0 && v != p.Version {
		h.done(w, rq, to, "error", fmt.Sprintf("Post #%d changed since you opened it (it is now %s): nothing was attached or removed. Look at it again.", id, p.State))
		return
	}
	list, msg, ok := change(p)
	if !ok {
		h.done(w, rq, to, "error", msg)
		return
	}
	problems, err := h.postBuilder().Validate(ctx, p.Accounts, p.Text, p.Link, list)
	if err != nil {
		h.done(w, rq, to, "error", h.explain(ctx, err, "check the post with its attachments")+" Nothing was changed.")
		return
	}
	if problems == nil {
		problems = []string{}
	}
	wasApproved := p.State == queue.PostApproved
	np, err := h.opt.Store.EditPost(ctx, rq.actor(), id, p.Version, queue.PostEdit{Media: &list, Problems: &problems})
	if err != nil {
		h.done(w, rq, to, "error", h.explain(ctx, err, fmt.Sprintf("change post #%d", id)))
		return
	}
	if wasApproved && np.State == queue.PostPending {
		msg += " Its approval was cancelled by the change: it is pending again and needs an approval."
	}
	if len(np.Problems) > 0 {
		msg += " The networks refuse it as it is: " + strings.Join(np.Problems, "; ") + "."
	}
	h.kick()
	h.done(w, rq, to, "ok", msg)
}

// serveMedia shows an attachment to anyone logged in (thumbnails in the queue).
func (h *Handler) serveMedia(w http.ResponseWriter, rq *request) {
	if h.opt.Media == nil {
		http.NotFound(w, rq.Request)
		return
	}
	id := rq.PathValue("id")
	if !media.ValidID(id) {
		http.NotFound(w, rq.Request)
		return
	}
	f, info, err := h.opt.Media.Open("id", id)
	if err != nil {
		if queue.ErrorKind(err) != queue.NotFound {
			h.log.WarnContext(rq.Context(), "web: reading an attachment", "id", id, "err", err)
		}
		http.NotFound(w, rq.Request)
		return
	}
	defer f.Close()
	api.ServeAttachment(w, rq.Request, f, info)
}

// sizeText is a byte count for people: "2.4 MB".
func sizeText(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.0f KB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}
