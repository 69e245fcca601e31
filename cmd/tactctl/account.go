package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"
	"time"

	"golang.org/x/term"

	"github.com/tact-hq/tact/daemon/api"
	"github.com/tact-hq/tact/daemon/connect"
)

func init() {
	register("account", "list the accounts and their health, or connect one to its network (admin)", accountCmd)
}

const accountUsage = `account list
       tactctl account connect NAME [--timeout 10m]
       tactctl account connect NAME --identifier HANDLE   (app password accounts: the password is read from stdin)`

func accountCmd(ctx context.Context, a *App, args []string) error {
	if len(args) == 0 {
		return usageError(a.flags("account", accountUsage), "missing subcommand: list or connect")
	}
	switch args[0] {
	case "list", "ls":
		return listAccounts(ctx, a, args[1:])
	case "connect":
		return accountConnect(ctx, a, args[1:])
	}
	return usageError(a.flags("account", accountUsage), "unknown subcommand %q: use list or connect", args[0])
}

func (a *App) accounts(ctx context.Context) ([]api.AccountInfo, []byte, error) {
	raw, err := a.get(ctx, "/api/v1/accounts")
	if err != nil {
		return nil, nil, err
	}
	var l api.List[api.AccountInfo]
	if err := decode(raw, &l); err != nil {
		return nil, nil, err
	}
	return l.Items, raw, nil
}

// listAccounts shows each account's health: connected as whom, until when, its last
// publish and error, and what needs a person.
func listAccounts(ctx context.Context, a *App, args []string) error {
	fs := a.flags("account list", "account list")
	if rest, err := parse(fs, args); err != nil {
		return err
	} else if len(rest) > 0 {
		return usageError(fs, "unexpected arguments %q", rest)
	}
	items, raw, err := a.accounts(ctx)
	if err != nil {
		return err
	}
	if a.JSON {
		return a.printJSON(raw)
	}
	t := newTable(a.Stdout, "ACCOUNT", "PLUGIN", "HEALTH", "CONNECTED AS", "TOKEN EXPIRES", "LAST PUBLISH", "LAST ERROR")
	var notes []string
	for _, ac := range items {
		health := "ok"
		if !ac.Healthy || len(ac.NeedsAttention) > 0 {
			health = "needs attention"
		}
		as, expires := "-", "-"
		switch {
		case ac.Connection != nil:
			as = orDash(ac.Connection.Subject)
			expires = "never"
			if !ac.Connection.TokenExpiresAt.IsZero() {
				expires = when(ac.Connection.TokenExpiresAt, "")
			}
		case ac.Connect != "":
			as = "not connected"
		}
		lastErr := ac.LastError
		if lastErr == "" {
			lastErr = ac.Detail
		}
		t.row(ac.Name, ac.Plugin, health, as, expires, when(ac.LastPublishedAt, ""), orDash(clip(lastErr, 60)))
		for _, r := range ac.NeedsAttention {
			notes = append(notes, ac.Name+": "+r)
		}
	}
	if err := t.flush(); err != nil {
		return err
	}
	if len(notes) > 0 {
		fmt.Fprintln(a.Stdout, "\nNeeds attention:")
		for _, n := range notes {
			fmt.Fprintln(a.Stdout, "  "+n)
		}
	}
	return nil
}

// pollEvery is how often connect asks the daemon whether the account is connected.
const pollEvery = time.Second

// accountConnect connects an account: it prints the network's consent page to open, then
// waits until the daemon shows the account connected (the browser came back to it), at
// most until the page expires or --timeout. An app password account takes --identifier
// and the password on stdin instead.
func accountConnect(ctx context.Context, a *App, args []string) error {
	fs := a.flags("account connect", "account connect NAME [--timeout 10m]\n       tactctl account connect NAME --identifier HANDLE\n\n"+
		"Prints the address of the network's consent page: open it in a browser where you can sign\n"+
		"in to the account, approve tact, and the network sends the browser back to the daemon\n"+
		"([daemon] public_url). The command waits until the daemon shows the account connected.\n"+
		"An account that connects with an app password (Bluesky) takes --identifier and reads the\n"+
		"password from stdin: printf %s \"$PASSWORD\" | tactctl account connect NAME --identifier brand.bsky.social")
	timeout := fs.Duration("timeout", connect.FlowTTL, "how long to wait for the browser to come back")
	identifier := fs.String("identifier", "", "the account's handle, for an account that connects with an app password")
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return usageError(fs, "give one account NAME (see 'tactctl account list')")
	}
	name := rest[0]
	if *identifier != "" {
		return connectPassword(ctx, a, name, *identifier)
	}
	before, _, err := a.accounts(ctx)
	if err != nil {
		return err
	}
	var was time.Time
	found := false
	for _, ac := range before {
		if ac.Name == name {
			found = true
			if ac.Connection != nil {
				was = ac.Connection.ConnectedAt
			}
		}
	}
	if !found {
		return fmt.Errorf("there is no account %q: see 'tactctl account list'", name)
	}
	raw, err := a.send(ctx, "POST", "/api/v1/accounts/"+url.PathEscape(name)+"/connect", nil)
	if err != nil {
		return err
	}
	var st api.ConnectAnswer
	if err := decode(raw, &st); err != nil {
		return err
	}
	deadline := time.Now().Add(*timeout)
	if !st.ExpiresAt.IsZero() && st.ExpiresAt.Before(deadline) {
		deadline = st.ExpiresAt
	}
	fmt.Fprintf(a.Stdout, "Open this address in a browser where you can sign in to %s's network, and approve tact:\n\n  %s\n\n", name, st.AuthURL)
	fmt.Fprintf(a.Stdout, "Waiting for the network to send the browser back to tact (until %s; Ctrl-C to stop)...\n", deadline.Format("15:04:05"))
	tick := time.NewTicker(pollEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
		items, _, err := a.accounts(ctx)
		if err != nil {
			return err
		}
		for _, ac := range items {
			if ac.Name == name && ac.Connection != nil && !ac.Connection.ConnectedAt.Equal(was) {
				fmt.Fprintf(a.Stdout, "Connected %s as %s.\n", name, orDash(ac.Connection.Subject))
				for _, r := range ac.NeedsAttention {
					fmt.Fprintln(a.Stdout, "  needs attention: "+r)
				}
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s is not connected: nobody came back from the network's page by %s; run 'tactctl account connect %s' again (the browser must reach tact at [daemon] public_url)",
				name, deadline.Format("15:04:05"), name)
		}
	}
}

// connectPassword connects an app password account; the password is read from stdin
// (typed without echo at a terminal).
func connectPassword(ctx context.Context, a *App, name, identifier string) error {
	var password string
	if f := os.Stdin; term.IsTerminal(int(f.Fd())) {
		fmt.Fprintf(a.Stderr, "App password for %s: ", identifier)
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(a.Stderr)
		if err != nil {
			return fmt.Errorf("reading the app password: %w", err)
		}
		password = string(b)
	} else {
		line, err := bufio.NewReader(os.Stdin).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("reading the app password from stdin: %w", err)
		}
		password = strings.TrimRight(line, "\r\n")
	}
	if strings.TrimSpace(password) == "" {
		return fmt.Errorf("no app password on stdin: pipe it in, e.g. printf %%s \"$PASSWORD\" | tactctl account connect %s --identifier %s", name, identifier)
	}
	raw, err := a.send(ctx, "POST", "/api/v1/accounts/"+url.PathEscape(name)+"/connect",
		api.ConnectInput{Settings: map[string]string{"identifier": identifier, "app_password": password}})
	if err != nil {
		return err
	}
	var c api.ConnectAnswer
	if printed, err := a.printJSONOr(raw, &c); printed || err != nil {
		return err
	}
	fmt.Fprintf(a.Stdout, "Connected %s as %s.\n", name, orDash(c.Subject))
	if c.Warning != "" {
		fmt.Fprintln(a.Stdout, "  but its plugin did not take the credentials yet (tact tries again): "+c.Warning)
	}
	return nil
}
