package web

import (
	"bytes"
	"html/template"
	"net/http"
	"strings"
	"time"

	"github.com/tact-hq/tact/daemon/api"
	"github.com/tact-hq/tact/daemon/queue"
)

// pageNames are the templates under templates/, each rendered inside layout.html.
var pageNames = []string{"login", "error", "queue", "edit", "import", "calendar", "campaigns", "resume", "incidents", "rules", "audit", "accounts", "leaving", "connected"}

var funcs = template.FuncMap{
	"join":   strings.Join,
	"inc":    func(i int) int { return i + 1 },
	"linkOK": linkOK,
	// dict passes several values to a sub-template: dict "V" $view "C" $card.
	"dict": func(kv ...any) map[string]any {
		m := make(map[string]any, len(kv)/2)
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i].(string)] = kv[i+1]
		}
		return m
	},
	"when": func(t time.Time, loc *time.Location) string {
		if t.IsZero() {
			return "—"
		}
		return t.In(loc).Format("Mon 2 Jan 2006 15:04 MST")
	},
	"clock": func(t time.Time, loc *time.Location) string { return t.In(loc).Format("15:04") },
	"iso":   func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
	"plural": func(n int, one, many string) string {
		if n == 1 {
			return one
		}
		return many
	},
}

func mustParsePages() map[string]*template.Template {
	out := make(map[string]*template.Template, len(pageNames))
	for _, n := range pageNames {
		out[n] = template.Must(template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/partials.html", "templates/"+n+".html"))
	}
	return out
}

// view is what every page template receives; Data is the page's own.
type view struct {
	Title   string
	Nav     string
	User    *queue.User
	CSRF    string
	Flash   *flash
	Here    string // this page's URL, for forms to come back to
	CanAct  bool   // marketer or admin
	IsAdmin bool
	Loc     *time.Location
	Data    any
}

// render writes page name with status. rq is nil on pages shown without a session.
func (h *Handler) render(w http.ResponseWriter, r *http.Request, rq *request, status int, name, title string, data any) {
	v := view{Title: title, Nav: name, Flash: h.takeFlash(w, r), Here: r.URL.RequestURI(), Loc: h.loc, Data: data}
	if rq != nil {
		v.User = rq.user
		v.CSRF = h.csrfToken(rq.sess)
		v.CanAct = rq.can(queue.RoleMarketer)
		v.IsAdmin = rq.can(queue.RoleAdmin)
	}
	var buf bytes.Buffer
	if err := h.pages[name].Execute(&buf, v); err != nil {
		h.log.ErrorContext(r.Context(), "web: render", "page", name, "err", err)
		http.Error(w, "The page could not be rendered; the error is logged.", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

type errorData struct {
	Status  int
	Problem string
	Next    string
}

// fail renders an error page: what is wrong and what to do.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, rq *request, status int, problem, next string) {
	h.render(w, r, rq, status, "error", http.StatusText(status), errorData{Status: status, Problem: problem, Next: next})
}

// internal reports an unexpected error (logged with its text, shown without it).
func (h *Handler) internal(w http.ResponseWriter, rq *request, what string, err error) {
	status := api.StatusFor(rq.Context(), err)
	if status != http.StatusServiceUnavailable && status != api.StatusClientClosedRequest {
		status = http.StatusInternalServerError
	}
	h.fail(w, rq.Request, rq, status, h.explain(rq.Context(), err, what), "Reload the page to try again.")
}
