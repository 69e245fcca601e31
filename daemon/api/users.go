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

// deleteUser removes a user and ends their web sessions; the store refuses to delete the
// last admin (nobody could add users again).
func (s *server) deleteUser(w http.ResponseWriter, r *http.Request, u *queue.User) error {
	if err := s.opt.Store.DeleteUser(r.Context(), actor(u), r.PathValue("name")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// RoleInput changes a user's role.
type RoleInput struct {
	Role queue.Role `json:"role"`
}

// setUserRole changes a user's role. Their web sessions end: whoever they are signed in as
// signs in again, under the new role.
func (s *server) setUserRole(w http.ResponseWriter, r *http.Request, u *queue.User) error {
	var in RoleInput
	if err := s.decode(w, r, &in, false); err != nil {
		return err
	}
	if !in.Role.Valid() {
		return queue.Errorf(queue.Invalid, "role", "unknown role %q: use viewer, marketer or admin", in.Role)
	}
	nu, err := s.opt.Store.SetUserRole(r.Context(), actor(u), r.PathValue("name"), in.Role)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, nu)
	return nil
}

// replaceToken gives a user a new token, shown this once; the old token and the user's web
// sessions stop working at once (a token that leaked is revoked this way).
func (s *server) replaceToken(w http.ResponseWriter, r *http.Request, u *queue.User) error {
	token := queue.NewToken()
	nu, err := s.opt.Store.ReplaceToken(r.Context(), actor(u), r.PathValue("name"), queue.HashToken(token))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, UserCreated{User: nu, Token: token})
	return nil
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
