package api

import (
	"net/http"
	"strings"
	"time"

	"github.com/tact-hq/tact/daemon/queue"
)

// UserInput creates a user.
type UserInput struct {
	Name string     `json:"name"`
	Role queue.Role `json:"role"`
}

// UserCreated is the only answer that ever carries a token.
type UserCreated struct {
	User  *queue.User `json:"user"`
	Token string      `json:"token"`
}

func (s *server) listUsers(w http.ResponseWriter, r *http.Request, u *queue.User) error {
	us, err := s.opt.Store.Users(r.Context())
	if err != nil {
		return err
	}
	if us == nil {
		us = []*queue.User{}
	}
	writeJSON(w, http.StatusOK, List[*queue.User]{Items: us})
	return nil
}

func (s *server) createUser(w http.ResponseWriter, r *http.Request, u *queue.User) error {
	var in UserInput
	if err := s.decode(w, r, &in, false); err != nil {
		return err
	}
	in.Name = strings.TrimSpace(in.Name)
	if err := checkName("name", in.Name); err != nil {
		return err
	}
	if !in.Role.Valid() {
		return queue.Errorf(queue.Invalid, "role", "unknown role %q: use viewer, marketer or admin", in.Role)
	}
	token := queue.NewToken()
	nu := &queue.User{Name: in.Name, Role: in.Role, CreatedAt: s.now().UTC()}
	if err := s.opt.Store.CreateUser(r.Context(), actor(u), nu, queue.HashToken(token)); err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, UserCreated{User: nu, Token: token})
	return nil
}

// deleteUser removes a user, but never the last admin: nobody could add users again.
func (s *server) deleteUser(w http.ResponseWriter, r *http.Request, u *queue.User) error {
	name := r.PathValue("name")
	us, err := s.opt.Store.Users(r.Context())
	if err != nil {
		return err
	}
	found := false
	for _, x := range us {
		if x.Name != name {
			continue
		}
		found = true
		if x.Role == queue.RoleAdmin && countAdmins(us) == 1 {
			return queue.Errorf(queue.Conflict, "name", "%q is the last admin; add another admin before deleting it", name)
		}
	}
	if !found {
		return queue.Errorf(queue.NotFound, "name", "no user named %q", name)
	}
	if err := s.opt.Store.DeleteUser(r.Context(), actor(u), name); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func countAdmins(us []*queue.User) int {
	n := 0
	for _, x := range us {
		if x.Role == queue.RoleAdmin {
			n++
		}
	}
	return n
}

func (s *server) audit(w http.ResponseWriter, r *http.Request, u *queue.User) error {
	q := r.URL.Query()
	since, err := parseSince(q.Get("since"), 24*time.Hour, s.now())
	if err != nil {
		return err
	}
	limit, err := parseLimit(q.Get("limit"), 200, 5000)
	if err != nil {
		return err
	}
	es, err := s.opt.Store.AuditLog(r.Context(), since, limit)
	if err != nil {
		return err
	}
	if es == nil {
		es = []queue.AuditEntry{}
	}
	writeJSON(w, http.StatusOK, List[queue.AuditEntry]{Items: es})
	return nil
}
