package config

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// [daemon] secrets_key is read from a file or the environment, in hex or base64, and is
// refused inline, at the wrong length, or unreadable, with tact.toml:LINE and how to make
// one; no message repeats the key.
func TestSecretsKey(t *testing.T) {
	key := bytes.Repeat([]byte{0xa7}, 32)
	dir := t.TempDir()
	b64 := filepath.Join(dir, "b64.key")
	hexFile := filepath.Join(dir, "hex.key")
	short := filepath.Join(dir, "short.key")
	os.WriteFile(b64, []byte(base64.StdEncoding.EncodeToString(key)+"\n"), 0o600)
	os.WriteFile(hexFile, []byte(hex.EncodeToString(key)), 0o600)
	os.WriteFile(short, []byte(base64.StdEncoding.EncodeToString(key[:16])), 0o600)
	t.Setenv("TACT_TEST_SECRETS_KEY", base64.RawURLEncoding.EncodeToString(key))

	for _, ref := range []string{"file:" + b64, "file:" + hexFile, "env:TACT_TEST_SECRETS_KEY"} {
		c, err := Load(writeFile(t, "[daemon]\nsecrets_key = \""+ref+"\"\n"))
		if err != nil {
			t.Fatalf("%s: %v", ref, err)
		}
		if !bytes.Equal(c.Daemon.SecretsKeyBytes, key) || c.Daemon.SecretsKey != ref {
			t.Errorf("%s: key %x, ref %q", ref, c.Daemon.SecretsKeyBytes, c.Daemon.SecretsKey)
		}
	}
	if c, err := Load(writeFile(t, "[daemon]\n")); err != nil || c.Daemon.SecretsKeyBytes != nil {
		t.Fatalf("no secrets_key: %v %v", c, err)
	}

	inline := base64.StdEncoding.EncodeToString(key)
	for _, tc := range []struct {
		ref  string
		want []string
	}{
		{inline, []string{"tact.toml:3:", "never the key itself", "head -c32 /dev/urandom | base64"}},
		{"file:" + short, []string{"tact.toml:3:", short, "16 bytes", "32 random bytes"}},
		{"file:" + filepath.Join(dir, "missing.key"), []string{"tact.toml:3:", "cannot read secret file"}},
		{"env:TACT_SURELY_UNSET_KEY", []string{"tact.toml:3:", "TACT_SURELY_UNSET_KEY is not set"}},
	} {
		_, err := Load(writeFile(t, "[daemon]\nlisten = \"127.0.0.1:8080\"\nsecrets_key = \""+tc.ref+"\"\n"))
		if err == nil {
			t.Errorf("%s: accepted", tc.ref)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q lacks %q", tc.ref, err, w)
			}
		}
		if strings.Contains(err.Error(), inline) || strings.Contains(err.Error(), base64.StdEncoding.EncodeToString(key[:16])) {
			t.Errorf("%s: the error repeats the key: %v", tc.ref, err)
		}
	}
	// Hex that is not 32 bytes, nor base64 either.
	os.WriteFile(hexFile, []byte("not a key, sorry"), 0o600)
	if _, err := Load(writeFile(t, "[daemon]\nsecrets_key = \"file:"+hexFile+"\"\n")); err == nil || !strings.Contains(err.Error(), "hex or base64") || strings.Contains(err.Error(), "not a key, sorry") {
		t.Errorf("garbage key: %v", err)
	}
}
