package main

import (
	"context"
	"fmt"
	"net/url"
	"strconv"

	"github.com/tact-hq/tact/daemon/api"
	"github.com/tact-hq/tact/daemon/queue"
)

func init() {
	register("user", "add, list, change and delete API users (admin)", userCmd)
}

const userUsage = `user add NAME --role viewer|marketer|admin
       tactctl user list
       tactctl user role NAME --role viewer|marketer|admin
       tactctl user token NAME
       tactctl user delete NAME`

func userCmd(ctx context.Context, a *App, args []string) error {
	if len(args) == 0 {
		return usageError(a.flags("user", userUsage), "missing subcommand")
	}
	switch args[0] {
	case "add", "create":
		return userAdd(ctx, a, args[1:])
	case "list", "ls":
		return userList(ctx, a, args[1:])
	case "role":
		return userRole(ctx, a, args[1:])
	case "token":
		return userToken(ctx, a, args[1:])
	case "delete", "rm":
		return userDelete(ctx, a, args[1:])
	}
	return usageError(a.flags("user", userUsage), "unknown subcommand %q", args[0])
}

func userAdd(ctx context.Context, a *App, args []string) error {
	fs := a.flags("user add", "user add NAME --role viewer|marketer|admin")
	role := fs.String("role", "", "viewer (read), marketer (posts, approvals, pause/resume) or admin (everything) (required)")
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return usageError(fs, "give one user NAME")
	}
	if !queue.Role(*role).Valid() {
		return usageError(fs, "--role must be viewer, marketer or admin (got %q)", *role)
	}
	raw, err := a.send(ctx, "POST", "/api/v1/users", api.UserInput{Name: rest[0], Role: queue.Role(*role)})
	if err != nil {
		return err
	}
	var uc api.UserCreated
	if printed, err := a.printJSONOr(raw, &uc); printed || err != nil {
		return err
	}
	fmt.Fprintf(a.Stdout, "created %s (%s). Its token, shown this once:\n\n  %s\n\n", uc.User.Name, uc.User.Role, uc.Token)
	fmt.Fprintln(a.Stdout, "Give it to them to use as TACT_TOKEN; only its hash is stored, so it cannot be shown again.")
	return nil
}

func userList(ctx context.Context, a *App, args []string) error {
	fs := a.flags("user list", "user list")
	if rest, err := parse(fs, args); err != nil {
		return err
	} else if len(rest) > 0 {
		return usageError(fs, "unexpected arguments %q", rest)
	}
	raw, err := a.get(ctx, "/api/v1/users")
	if err != nil {
		return err
	}
	var l api.List[*queue.User]
	if printed, err := a.printJSONOr(raw, &l); printed || err != nil {
		return err
	}
	t := newTable(a.Stdout, "ID", "NAME", "ROLE", "CREATED")
	for _, u := range l.Items {
		t.row(strconv.FormatInt(u.ID, 10), u.Name, string(u.Role), when(u.CreatedAt, ""))
	}
	return t.flush()
}

// userRole changes a user's role; their web sessions end, so they sign in again under it.
func userRole(ctx context.Context, a *App, args []string) error {
	fs := a.flags("user role", "user role NAME --role viewer|marketer|admin")
	role := fs.String("role", "", "the new role: viewer, marketer or admin (required)")
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return usageError(fs, "give one user NAME")
	}
	if !queue.Role(*role).Valid() {
		return usageError(fs, "--role must be viewer, marketer or admin (got %q)", *role)
	}
	raw, err := a.send(ctx, "PATCH", "/api/v1/users/"+url.PathEscape(rest[0]), api.RoleInput{Role: queue.Role(*role)})
	if err != nil {
		return err
	}
	var u queue.User
	if printed, err := a.printJSONOr(raw, &u); printed || err != nil {
		return err
	}
	fmt.Fprintf(a.Stdout, "%s is now %s; their web sessions have ended (their token still works)\n", u.Name, u.Role)
	return nil
}

// userToken replaces a user's token: the old one and their web sessions stop working.
func userToken(ctx context.Context, a *App, args []string) error {
	fs := a.flags("user token", "user token NAME")
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return usageError(fs, "give one user NAME")
	}
	raw, err := a.send(ctx, "POST", "/api/v1/users/"+url.PathEscape(rest[0])+"/token", nil)
	if err != nil {
		return err
	}
	var uc api.UserCreated
	if printed, err := a.printJSONOr(raw, &uc); printed || err != nil {
		return err
	}
	fmt.Fprintf(a.Stdout, "new token for %s (%s), shown this once:\n\n  %s\n\n", uc.User.Name, uc.User.Role, uc.Token)
	fmt.Fprintln(a.Stdout, "The old token and their web sessions no longer work.")
	return nil
}

func userDelete(ctx context.Context, a *App, args []string) error {
	fs := a.flags("user delete", "user delete NAME")
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return usageError(fs, "give one user NAME")
	}
	if _, err := a.send(ctx, "DELETE", "/api/v1/users/"+url.PathEscape(rest[0]), nil); err != nil {
		return err
	}
	if a.JSON {
		return a.printJSONValue(map[string]string{"deleted": rest[0]})
	}
	fmt.Fprintf(a.Stdout, "deleted %s; its token and web sessions no longer work\n", rest[0])
	return nil
}
