package host

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/tact-hq/tact/plugins/sdk"
)

// BinaryPrefix starts the name of every external plugin binary: tact-plugin-<name>.
const BinaryPrefix = "tact-plugin-"

// Found is an external plugin binary in a plugin directory.
type Found struct {
	Name string // the part after tact-plugin-
	Path string
}

// Discover lists the executable tact-plugin-* files in dir, sorted by name. A directory
// that does not exist holds no plugins; "" means no directory.
func Discover(dir string) ([]Found, error) {
	if dir == "" {
		return nil, nil
	}
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("plugin_dir %s: %w", dir, err)
	}
	var out []Found
	for _, e := range entries {
		name, ok := strings.CutPrefix(e.Name(), BinaryPrefix)
		if !ok || name == "" {
			continue
		}
		path := filepath.Join(dir, e.Name())
		st, err := os.Stat(path) // follows symlinks
		if err != nil || !st.Mode().IsRegular() || st.Mode().Perm()&0o111 == 0 {
			continue
		}
		out = append(out, Found{Name: name, Path: path})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// PluginInfo describes one known plugin.
type PluginInfo struct {
	Name       string   `json:"name"`
	Builtin    bool     `json:"builtin"`
	Path       string   `json:"path"`
	Version    string   `json:"version,omitempty"`
	APIVersion int      `json:"api_version,omitempty"`
	MaxLength  int      `json:"max_length,omitempty"`
	Counting   string   `json:"counting,omitempty"`
	Features   []string `json:"capabilities,omitempty"`
	// Error says why the plugin could not be described (it will not work either).
	Error string `json:"error,omitempty"`
}

// Plugins lists the built-in plugins and those in PluginDir, with the version each
// reports. Each binary is started once to Describe itself; answers are kept until the
// binary changes.
func (m *Manager) Plugins(ctx context.Context) ([]PluginInfo, error) {
	found, err := Discover(m.cfg.PluginDir)
	if err != nil {
		return nil, err
	}
	var cmds []command
	for _, name := range m.cfg.Builtins {
		cmds = append(cmds, command{plugin: name, path: m.cfg.Executable, args: []string{"plugin", name}, builtin: true})
	}
	for _, f := range found {
		if !slices.Contains(m.cfg.Builtins, f.Name) {
			cmds = append(cmds, command{plugin: f.Name, path: f.Path})
		}
	}
	out := make([]PluginInfo, 0, len(cmds))
	for _, c := range cmds {
		out = append(out, m.describe(ctx, c))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// describe starts c just long enough to ask for its description.
func (m *Manager) describe(ctx context.Context, c command) PluginInfo {
	info := PluginInfo{Name: c.plugin, Builtin: c.builtin, Path: c.path}
	key := c.String()
	if st, err := os.Stat(c.path); err == nil {
		key += "|" + st.ModTime().String() + "|" + fmt.Sprint(st.Size())
	}
	m.mu.Lock()
	cached, ok := m.infos[key]
	m.mu.Unlock()
	if ok {
		return cached
	}
	pr, err := m.probe(ctx, c)
	if err != nil {
		info.Error = err.Error()
		return info // not cached: the admin may be fixing it right now
	}
	desc := pr.Description
	info.Version, info.APIVersion = desc.Version, pr.APIVersion
	info.MaxLength, info.Counting, info.Features = desc.MaxLength, string(desc.Counting), desc.Capabilities
	if desc.Name != "" && desc.Name != c.plugin {
		info.Error = fmt.Sprintf("binary is named %s but the plugin calls itself %q", c.plugin, desc.Name)
	}
	m.mu.Lock()
	m.infos[key] = info
	m.mu.Unlock()
	return info
}

// Probe is what a plugin binary says about itself.
type Probe struct {
	Description sdk.Description
	APIVersion  int // the plugin's minor API version
}

// Probe starts the plugin binary at path, completes the handshake, asks it to Describe
// itself and stops it. It does not Configure it. The conformance kit and `tactctl plugin
// check` use it to test the handshake on its own.
func (m *Manager) Probe(ctx context.Context, path string) (Probe, error) {
	return m.probe(ctx, command{plugin: strings.TrimPrefix(filepath.Base(path), BinaryPrefix), path: path})
}

func (m *Manager) probe(ctx context.Context, c command) (Probe, error) {
	ctx, cancel := m.withDeadline(ctx)
	defer cancel()
	client, net, desc, err := m.launch(ctx, c, m.log.With("plugin", c.plugin), false)
	if err != nil {
		return Probe{}, err
	}
	client.Kill()
	return Probe{Description: desc, APIVersion: net.APIVersion()}, nil
}
