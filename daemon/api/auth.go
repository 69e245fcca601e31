package api

import (
	"context"
	"net/http"
	"strings"

	"github.com/tact-hq/tact/daemon/queue"
)

// SessionFunc lets the web UI authenticate API calls made with its session cookie. It
// returns the session's user and true only when r carries a valid session and, for unsafe
// methods (anything but GET, HEAD, OPTIONS), a valid CSRF token: the API trusts ok and does
// no CSRF check of its own. A request with an Authorization header never reaches it.
type SessionFunc func(r *http.Request) (*queue.User, bool)

// Authenticate returns the user whose bearer token r carries ("Authorization: Bearer
// <token>"). Tokens are looked up by their SHA-256; errors are of kind Unauthorized except
// when the store itself fails.
func Authenticate(ctx context.Context, users queue.UserStore, r *http.Request) (*queue.User, error) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return nil, queue.Errorf(queue.Unauthorized, "", "no credentials: send \"Authorization: Bearer <token>\" (tactctl: set TACT_TOKEN or --token)")
	}
	scheme, token, ok := strings.Cut(h, " ")
	token = strings.TrimSpace(token)
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
		return nil, queue.Errorf(queue.Unauthorized, "", "the Authorization header must be \"Bearer <token>\"")
	}
	u, err := users.UserByTokenHash(ctx, queue.HashToken(token))
	if queue.ErrorKind(err) == queue.NotFound || (err == nil && u == nil) {
		return nil, queue.Errorf(queue.Unauthorized, "", "the token is not valid (mistyped, or its user was deleted); ask an admin for a new one with 'tactctl user add'")
	}
	if err != nil {
		return nil, err
	}
	return u, nil
}

// Authorize checks that u may do what needs role need.
func Authorize(u *queue.User, need queue.Role) error {
	if u == nil {
		return queue.Errorf(queue.Unauthorized, "", "not signed in")
	}
	if !u.Role.Allows(need) {
		return queue.Errorf(queue.Forbidden, "", "this needs the %s role; %s is %s (an admin can change that with 'tactctl user role %s --role %s')", need, u.Name, u.Role, u.Name, need)
	}
	return nil
}

// user finds who is calling: the bearer token if there is an Authorization header,
// otherwise the web UI's session through the hook.
func (s *server) user(r *http.Request) (*queue.User, error) {
	if r.Header.Get("Authorization") == "" && s.opt.SessionUser != nil {
		if u, ok := s.opt.SessionUser(r); ok && u != nil {
			return u, nil
		}
	}
	return Authenticate(r.Context(), s.opt.Store, r)
}

// actor is who the audit log names for u.
func actor(u *queue.User) queue.Actor { return queue.Actor{Kind: queue.ActorUser, Name: u.Name} }
