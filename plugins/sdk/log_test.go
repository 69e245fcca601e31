package sdk

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"testing"
	"time"
)

// The plugin-side handler writes what go-plugin's host parses: @level, @message, and an
// @timestamp in hclog's layout.
func TestLogHandlerSpeaksHCLogJSON(t *testing.T) {
	var buf bytes.Buffer
	l := slog.New(newLogHandler(&buf, slog.LevelDebug))
	l.Warn("token expires soon", "days", 3)
	var got map[string]any
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if got["@level"] != "warn" || got["@message"] != "token expires soon" || got["days"] != float64(3) {
		t.Fatalf("line = %s", buf.Bytes())
	}
	if _, err := time.Parse(hclogTimeFormat, got["@timestamp"].(string)); err != nil {
		t.Fatalf("timestamp: %v", err)
	}
}
