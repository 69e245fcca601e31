package host

import (
	"sort"
	"time"
)

// AccountState is what the manager knows about one account's plugin process, for the
// daemon's account list and health checks. It never includes settings.
type AccountState struct {
	Account string `json:"account"`
	Plugin  string `json:"plugin"`
	Builtin bool   `json:"builtin"`
	// Version, MaxLength and Counting are known once the process has started.
	Version   string `json:"version,omitempty"`
	MaxLength int    `json:"max_length,omitempty"`
	Counting  string `json:"counting,omitempty"`
	Running   bool   `json:"running"`
	// Failures counts crashes and failed starts since the process last ran long enough.
	Failures int `json:"failures,omitempty"`
	// LastError is the last crash or failed start ("" if none since it last started).
	LastError string `json:"last_error,omitempty"`
	// NextStart is when a crashed process may start again (zero: on next use).
	NextStart time.Time `json:"next_start,omitzero"`
}

// Healthy reports whether the account's process is running or may start on next use
// without a failure waiting to be fixed.
func (s AccountState) Healthy() bool { return s.Running || s.LastError == "" }

// Accounts reports the state of every account's process, sorted by account name. It
// starts nothing.
func (m *Manager) Accounts() []AccountState {
	m.mu.Lock()
	procs := make([]*proc, 0, len(m.accounts))
	for _, p := range m.accounts {
		procs = append(procs, p)
	}
	m.mu.Unlock()
	out := make([]AccountState, 0, len(procs))
	for _, p := range procs {
		out = append(out, p.state())
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Account < out[j].Account })
	return out
}

func (p *proc) state() AccountState {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := AccountState{
		Account:   p.acct.Name,
		Plugin:    p.cmd.plugin,
		Builtin:   p.cmd.builtin,
		Version:   p.desc.Version,
		MaxLength: p.desc.MaxLength,
		Counting:  string(p.desc.Counting),
		Running:   p.client != nil && !p.client.Exited(),
		Failures:  p.crashes,
	}
	if !s.Running && p.lastErr != nil {
		s.LastError = p.lastErr.Error()
		s.NextStart = p.retryAt
	}
	return s
}
