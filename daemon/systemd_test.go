package daemon

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// unitForAnalysis copies the shipped unit with ExecStart pointing at a binary that exists
// here, because systemd-analyze verify refuses a unit whose binary is missing.
func unitForAnalysis(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("systemd-analyze"); err != nil {
		t.Skip("systemd-analyze not installed (apt-get install systemd); .ci/run installs it")
	}
	b, err := os.ReadFile("../systemd/tactd.service")
	if err != nil {
		t.Fatal(err)
	}
	unit := strings.Replace(string(b), "/usr/bin/tactd", "/bin/true", 1)
	p := filepath.Join(t.TempDir(), "tactd.service")
	if err := os.WriteFile(p, []byte(unit), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestSystemdUnitVerifies(t *testing.T) {
	p := unitForAnalysis(t)
	out, err := exec.Command("systemd-analyze", "verify", p).CombinedOutput()
	if err != nil || len(strings.TrimSpace(string(out))) > 0 {
		t.Fatalf("systemd-analyze verify: %v\n%s", err, out)
	}
	b, _ := os.ReadFile(p)
	for _, want := range []string{"Type=notify", "ExecReload=/bin/kill -HUP $MAINPID", "NoNewPrivileges=yes", "ProtectSystem=strict", "StateDirectory=tact"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("unit lacks %q", want)
		}
	}
}

func TestSystemdUnitExposureAtMost2(t *testing.T) {
	p := unitForAnalysis(t)
	out, err := exec.Command("systemd-analyze", "security", "--offline=true", p).CombinedOutput()
	if err != nil {
		t.Fatalf("systemd-analyze security: %v\n%s", err, out)
	}
	m := regexp.MustCompile(`Overall exposure level for \S+: ([0-9.]+)`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("no exposure level in:\n%s", out)
	}
	score, _ := strconv.ParseFloat(string(m[1]), 64)
	t.Logf("systemd-analyze security exposure: %.1f", score)
	if score > 2.0 {
		t.Fatalf("exposure %.1f is above 2.0:\n%s", score, out)
	}
}
