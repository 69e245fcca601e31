package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// daemon is one tactd process started by the run.
type daemon struct {
	cmd     *exec.Cmd
	addr    string
	logPath string
	exited  chan struct{}
	// ColdStart is the time from starting the process to the first 200 from /readyz.
	ColdStart time.Duration
}

// startDaemon runs `tactd --config cfg --listen addr`, logging to logPath, and waits for
// /readyz to answer 200, polling every 2ms so that the cold start is measured closely.
func startDaemon(ctx context.Context, tactd, cfg, addr, logPath string) (*daemon, error) {
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	d := &daemon{addr: addr, logPath: logPath, exited: make(chan struct{})}
	d.cmd = exec.Command(tactd, "--config", cfg, "--listen", addr)
	d.cmd.Stdout, d.cmd.Stderr = logf, logf
	// Its own process group: an interrupted run can stop tactd and its plugins together.
	d.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	client := &http.Client{Timeout: time.Second}
	start := time.Now()
	if err := d.cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("start %s: %w", tactd, err)
	}
	go func() {
		_ = d.cmd.Wait()
		logf.Close()
		close(d.exited)
	}()
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := client.Get("http://" + addr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				d.ColdStart = time.Since(start)
				return d, nil
			}
		}
		select {
		case <-d.exited:
			return nil, fmt.Errorf("tactd exited before it was ready; see %s", logPath)
		case <-ctx.Done():
			d.stop()
			return nil, ctx.Err()
		case <-time.After(2 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			d.stop()
			return nil, fmt.Errorf("tactd not ready within 60s; see %s", logPath)
		}
	}
}

// stop sends SIGTERM and waits for a graceful exit (then kills the process group).
func (d *daemon) stop() {
	select {
	case <-d.exited:
		return
	default:
	}
	_ = d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-d.exited:
	case <-time.After(30 * time.Second):
		_ = syscall.Kill(-d.cmd.Process.Pid, syscall.SIGKILL)
		<-d.exited
	}
}

// token reads the admin token the daemon wrote into its data directory.
func token(dataDir string) (string, error) {
	b, err := os.ReadFile(filepath.Join(dataDir, "admin.token"))
	if err != nil {
		return "", fmt.Errorf("no admin token: %w", err)
	}
	return strings.TrimSpace(string(b)), nil
}

// memory is a process's resident memory, from /proc/PID/status, in bytes.
type memory struct {
	RSS, HWM int64 // VmRSS: resident now; VmHWM: the peak
}

func readMemory(pid int) (memory, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return memory{}, err
	}
	var m memory
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		f := strings.Fields(v)
		if len(f) < 1 {
			continue
		}
		n, _ := strconv.ParseInt(f[0], 10, 64)
		switch k {
		case "VmRSS":
			m.RSS = n * 1024
		case "VmHWM":
			m.HWM = n * 1024
		}
	}
	return m, nil
}

// children lists the pids whose parent is pid (tactd's plugin processes).
func children(pid int) []int {
	var out []int
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		n, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", n))
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...: comm may hold spaces and parentheses.
		s := string(b)
		i := strings.LastIndexByte(s, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(s[i+1:])
		if len(f) > 1 && f[1] == strconv.Itoa(pid) {
			out = append(out, n)
		}
	}
	return out
}

// cpuTime is the user+system CPU time the process has used so far.
func cpuTime(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return 0
	}
	// Fields after the comm: state(0) ppid(1) ... utime(11) stime(12), in clock ticks (100/s
	// on Linux).
	u, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(u+st) * 10 * time.Millisecond
}

// snapshot is tactd's memory and its plugin processes' total at one moment.
type snapshot struct {
	Daemon        memory
	Plugins       memory // sums over the children
	PluginCount   int
	PluginMaxPeak int64
}

func (d *daemon) snapshot() (snapshot, error) {
	pid := d.cmd.Process.Pid
	m, err := readMemory(pid)
	if err != nil {
		return snapshot{}, err
	}
	s := snapshot{Daemon: m}
	for _, c := range children(pid) {
		cm, err := readMemory(c)
		if err != nil {
			continue
		}
		s.PluginCount++
		s.Plugins.RSS += cm.RSS
		s.Plugins.HWM += cm.HWM
		s.PluginMaxPeak = max(s.PluginMaxPeak, cm.HWM)
	}
	return s, nil
}
