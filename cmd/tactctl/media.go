package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/tact-hq/tact/daemon/api"
	"github.com/tact-hq/tact/daemon/media"
)

func init() {
	register("media", "upload an image or video for posts to use", mediaCmd)
}

const mediaUsage = `media upload FILE|-
       tactctl media fetch URL`

// mediaCmd uploads attachments. tactctl reads the file as the person running it; the
// daemon never opens a path a user names (docs/operations.md, "Media").
func mediaCmd(ctx context.Context, a *App, args []string) error {
	fs := a.flags("media", mediaUsage)
	if len(args) == 0 {
		return usageError(fs, "missing subcommand")
	}
	rest, err := parse(fs, args[1:])
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return usageError(fs, "%s takes one argument", args[0])
	}
	var raw []byte
	switch args[0] {
	case "upload", "add":
		raw, err = a.uploadFile(ctx, rest[0])
	case "fetch":
		raw, err = a.send(ctx, "POST", "/api/v1/media", api.MediaURLInput{URL: rest[0]})
	default:
		return usageError(fs, "unknown subcommand %q", args[0])
	}
	if err != nil {
		return err
	}
	var m api.MediaView
	if printed, err := a.printJSONOr(raw, &m); printed || err != nil {
		return err
	}
	size := fmt.Sprintf("%d bytes", m.Size)
	if m.Width > 0 {
		size += fmt.Sprintf(", %d×%d", m.Width, m.Height)
	}
	fmt.Fprintf(a.Stdout, "%s  %s, %s\n", m.ID, m.Type, size)
	return nil
}

// uploadFile sends a local file ("-": standard input) and returns the daemon's answer.
func (a *App) uploadFile(ctx context.Context, path string) ([]byte, error) {
	var r io.Reader = os.Stdin
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return nil, fmt.Errorf("cannot read %s: %w", path, err)
		}
		defer f.Close()
		r = f
	}
	data, err := io.ReadAll(io.LimitReader(r, 1<<30))
	if err != nil {
		return nil, fmt.Errorf("cannot read %s: %w", path, err)
	}
	return a.request(ctx, "POST", "/api/v1/media", data, "application/octet-stream")
}

// mediaIDs turns --media values into attachment ids: an id stays as it is, anything else
// is a local file, uploaded first.
func (a *App) mediaIDs(ctx context.Context, values []string) ([]string, error) {
	var ids []string
	for _, v := range values {
		if media.ValidID(v) {
			ids = append(ids, v)
			continue
		}
		raw, err := a.uploadFile(ctx, v)
		if err != nil {
			return nil, fmt.Errorf("--media %s: %w", v, err)
		}
		var m api.MediaView
		if err := decode(raw, &m); err != nil {
			return nil, err
		}
		ids = append(ids, m.ID)
	}
	return ids, nil
}
