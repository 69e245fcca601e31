package sdk

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
)

// MediaType is m's MIME type without parameters ("image/png"): m.MimeType when it is set,
// else the type the extension of its file name (m.Path, or the path of m.URL) suggests.
// It is "" when neither says.
func MediaType(m Media) string {
	if m.MimeType != "" {
		t, _, _ := mime.ParseMediaType(m.MimeType)
		return t
	}
	name := m.Path
	if name == "" {
		if u, err := url.Parse(m.URL); err == nil {
			name = u.Path
		}
	}
	t, _, _ := mime.ParseMediaType(mime.TypeByExtension(filepath.Ext(name)))
	return t
}

// ReadMedia returns the bytes of an attachment, reading at most max of them: the file at
// m.Path, or else what a GET of m.URL answers through client (nil means
// http.DefaultClient). Give it a client that adds no credentials: the URL is someone
// else's server. ctx bounds the download.
//
// The errors are typed. What a person must fix is Permanent: a file that cannot be read,
// a URL that is not one or answers another 4xx, an attachment larger than max. A download
// that breaks, or is answered 429 or 5xx, is Retryable.
func ReadMedia(ctx context.Context, client *http.Client, m Media, max int64) ([]byte, error) {
	if m.Path != "" {
		f, err := os.Open(m.Path)
		if err != nil {
			return nil, Errorf(Permanent, "reading %s: %v", m.Path, pathless(err))
		}
		defer f.Close()
		data, err := io.ReadAll(io.LimitReader(f, max+1))
		if err != nil {
			return nil, Errorf(Permanent, "reading %s: %v", m.Path, pathless(err))
		}
		return limited(data, m.Path, max)
	}
	if m.URL == "" {
		return nil, Errorf(Permanent, "the attachment has neither a path nor a URL")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, m.URL, nil)
	if err != nil {
		return nil, Errorf(Permanent, "attachment URL %q: %v", m.URL, err)
	}
	shown := req.URL.Redacted()
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // its text repeats the URL
		}
		return nil, Errorf(Retryable, "downloading %s: %v", shown, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		kind := Permanent
		if resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests {
			kind = Retryable
		}
		return nil, Errorf(kind, "downloading %s: %s", shown, resp.Status)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, max+1))
	if err != nil {
		return nil, Errorf(Retryable, "downloading %s: %v", shown, err)
	}
	return limited(data, shown, max)
}

func limited(data []byte, where string, max int64) ([]byte, error) {
	if int64(len(data)) > max {
		return nil, Errorf(Permanent, "%s is larger than %d bytes: make it smaller", where, max)
	}
	return data, nil
}

// pathless drops the path an *fs.PathError repeats, since messages name the file already.
func pathless(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
