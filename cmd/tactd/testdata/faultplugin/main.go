// Command faultplugin is a tact plugin that misbehaves on purpose, for tactd's fault tests.
// The test builds it several times into a plugin_dir, choosing the behaviour at build time
// with -ldflags "-X main.mode=MODE" (the handshake comes before any setting, so a setting
// could not choose how the handshake goes wrong):
//
//	network    a well-behaved plugin; the account's "behave" setting picks how Publish
//	           misbehaves: hang-once, crash-once, slow, or ok
//	junk       prints junk on stdout instead of the handshake, then waits
//	nonsense   prints a well-formed handshake line pointing at a server that answers garbage
//
// The "network" the plugin publishes to is a journal file (setting "journal"): one line per
// publish, "KEY\tTEXT". Lookup reads it back, so a test can count what really went out.
package main

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/tact-hq/tact/plugins/sdk"
)

// mode is set at build time.
var mode = "network"

func main() {
	switch mode {
	case "junk":
		fmt.Println("Welcome to the fault plugin! This is not a handshake.")
		time.Sleep(time.Minute) // the daemon gives up on the handshake and kills us
	case "nonsense":
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			os.Exit(1)
		}
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				go func() {
					_, _ = c.Write([]byte("HTTP/1.0 418 I'm a teapot\r\n\r\nnonsense nonsense nonsense\n"))
					time.Sleep(100 * time.Millisecond)
					c.Close()
				}()
			}
		}()
		fmt.Printf("1|1|tcp|%s|grpc|\n", ln.Addr())
		time.Sleep(time.Minute)
	default:
		sdk.Serve(&network{})
	}
}

type network struct {
	mu      sync.Mutex
	behave  string
	journal string
	delay   time.Duration
}

func (n *network) Describe(context.Context) (sdk.Description, error) {
	return sdk.Description{Name: "fault", Version: "0.0.1", MaxLength: 500, Counting: sdk.CountRunes,
		Capabilities: []string{"lookup"}, SettingsKeys: []string{"behave", "journal", "delay"}}, nil
}

func (n *network) Configure(_ context.Context, s map[string]string) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.behave, n.journal = s["behave"], s["journal"]
	if n.journal == "" {
		return sdk.Errorf(sdk.Permanent, "fault plugin: setting \"journal\" is required")
	}
	n.delay = 2 * time.Second
	if v := s["delay"]; v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			return sdk.Errorf(sdk.Permanent, "fault plugin: bad delay %q", v)
		}
		n.delay = d
	}
	return nil
}

func (n *network) Validate(context.Context, sdk.Post) ([]sdk.Problem, error) { return nil, nil }

// marker is a file that remembers, across plugin processes, that key already misbehaved.
func (n *network) marker(key string) string {
	return filepath.Join(filepath.Dir(n.journal), "misbehaved-"+key)
}

func (n *network) firstTime(key string) bool {
	f, err := os.OpenFile(n.marker(key), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return false
	}
	f.Close()
	return true
}

func (n *network) record(key, text string) error {
	f, err := os.OpenFile(n.journal, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	defer f.Close()
	if _, err := fmt.Fprintf(f, "%s\t%s\n", key, strings.ReplaceAll(text, "\n", " ")); err != nil {
		return err
	}
	return f.Sync()
}

func (n *network) Publish(ctx context.Context, p sdk.Post, key string) (sdk.Receipt, error) {
	n.mu.Lock()
	behave, delay := n.behave, n.delay
	n.mu.Unlock()
	switch behave {
	case "hang-once":
		if n.firstTime(key) {
			<-ctx.Done() // hangs until the daemon's call deadline; nothing was sent
			return sdk.Receipt{}, ctx.Err()
		}
	case "crash-once":
		if n.firstTime(key) {
			if err := n.record(key, p.Text); err != nil {
				return sdk.Receipt{}, err
			}
			os.Exit(3) // the network has the post; the daemon never hears back
		}
	case "slow":
		select {
		case <-time.After(delay):
		case <-ctx.Done():
			return sdk.Receipt{}, ctx.Err()
		}
	}
	if err := n.record(key, p.Text); err != nil {
		return sdk.Receipt{}, sdk.Errorf(sdk.Retryable, "fault plugin: %v", err)
	}
	return sdk.Receipt{RemoteID: "f-" + key, URL: "https://fault.test/" + key, PublishedAt: time.Now()}, nil
}

func (n *network) Lookup(_ context.Context, key string) (sdk.Receipt, bool, error) {
	f, err := os.Open(n.journal)
	if os.IsNotExist(err) {
		return sdk.Receipt{}, false, nil
	}
	if err != nil {
		return sdk.Receipt{}, false, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, _, _ := strings.Cut(sc.Text(), "\t"); k == key {
			return sdk.Receipt{RemoteID: "f-" + key, URL: "https://fault.test/" + key}, true, nil
		}
	}
	return sdk.Receipt{}, false, sc.Err()
}

func (n *network) Delete(context.Context, string) error { return nil }
