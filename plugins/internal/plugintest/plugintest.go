// Package plugintest holds what the built-in plugins' tests share: a bounded context for
// a test's calls, the check that an error has the kind the daemon acts on, and a way to
// see a test helper fail.
package plugintest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/tact-hq/tact/plugins/sdk"
)

// Context is a context for one test's calls, cancelled when the test ends and after 20
// seconds at the latest, so a call that hangs fails the test instead of stalling it.
func Context(tb testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	tb.Cleanup(cancel)
	return ctx
}

// WantKind fails the test unless err is (or wraps) an *sdk.Error of kind k whose text
// contains contains, and returns that error.
func WantKind(tb testing.TB, err error, k sdk.ErrorKind, contains string) *sdk.Error {
	tb.Helper()
	var e *sdk.Error
	if !errors.As(err, &e) || e.Kind != k {
		tb.Fatalf("error = %v (kind %q), want kind %q", err, sdk.KindOf(err), k)
	}
	if !strings.Contains(err.Error(), contains) {
		tb.Fatalf("error %q does not say %q", err, contains)
	}
	return e
}

// FatalMessage runs check with a testing.TB whose Fatalf stops check, and returns what
// Fatalf was given ("" when check did not call it): for testing test helpers themselves.
func FatalMessage(t *testing.T, check func(tb testing.TB)) string {
	rec := &fatalRecorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		check(rec)
	}()
	<-done
	return rec.msg
}

type fatalRecorder struct {
	testing.TB
	msg string
}

func (r *fatalRecorder) Fatalf(format string, args ...any) {
	r.msg = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

// Attachment is an attachment as the daemon hands it to a plugin's Publish: data with its
// id (the hex SHA-256), sniffed type and size. Validate gets the same without Data.
func Attachment(data []byte, mimeType, alt string) sdk.Media {
	sum := sha256.Sum256(data)
	return sdk.Media{ID: hex.EncodeToString(sum[:]), MimeType: mimeType, Size: int64(len(data)), Alt: alt, Data: data}
}
