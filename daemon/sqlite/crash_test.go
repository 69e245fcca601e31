package sqlite_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tact-hq/tact/daemon/queue"
	"github.com/tact-hq/tact/daemon/sqlite"
)

const crashChildEnv = "TACT_SQLITE_CRASH_CHILD"

// TestKill9LosesNothingAcknowledged is SPEC 7's "kill -9 at any moment loses nothing that
// was acknowledged": a child process writes posts and approvals as fast as it can and says
// "ack" after each call returns; the parent kills it with SIGKILL mid-stream and then finds
// every acknowledged change in the database.
func TestKill9LosesNothingAcknowledged(t *testing.T) {
	if path := os.Getenv(crashChildEnv); path != "" {
		crashChild(path)
		return
	}
	path := filepath.Join(t.TempDir(), "tact.db")
	cmd := exec.Command(os.Args[0], "-test.run=^TestKill9LosesNothingAcknowledged$")
	cmd.Env = append(os.Environ(), crashChildEnv+"="+path)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	must(t, err)
	must(t, cmd.Start())
	created := map[int64]bool{}
	approved := map[int64]bool{}
	sc := bufio.NewScanner(out)
	killed := false
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) != 2 {
			continue // the test framework's own output
		}
		id, err := strconv.ParseInt(f[1], 10, 64)
		if err != nil {
			continue
		}
		switch f[0] {
		case "created":
			created[id] = true
		case "approved":
			approved[id] = true
		}
		if len(created) == 300 && !killed {
			must(t, cmd.Process.Kill())
			killed = true
		}
	}
	cmd.Wait() // killed: the error is expected
	if !killed {
		t.Fatalf("the child ended by itself after %d posts", len(created))
	}
	db, err := sqlite.Open(context.Background(), path)
	must(t, err)
	defer db.Close()
	for id := range created {
		p, err := db.Post(context.Background(), id)
		if err != nil {
			t.Fatalf("acknowledged post %d lost after kill -9: %v", id, err)
		}
		if approved[id] && p.State != queue.PostApproved {
			t.Fatalf("acknowledged approval of post %d lost after kill -9: it is %s", id, p.State)
		}
		if len(p.Deliveries) != 1 {
			t.Fatalf("post %d has %d deliveries: half-written", id, len(p.Deliveries))
		}
	}
	t.Logf("%d posts and %d approvals acknowledged before SIGKILL, all found", len(created), len(approved))
}

// crashChild writes until it is killed.
func crashChild(path string) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	c := &queue.Campaign{Name: "crash", Accounts: []string{"m"}}
	if err := db.CreateCampaign(ctx, ann, c); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	for i := 0; i < 1_000_000; i++ {
		p := &queue.Post{CampaignID: c.ID, Text: fmt.Sprint("post ", i), DueAt: time.Now().Add(time.Hour)}
		if err := db.CreatePost(ctx, ann, p); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		fmt.Fprintf(os.Stdout, "created %d\n", p.ID)
		if i%2 == 0 {
			if _, err := db.Apply(ctx, ann, p.ID, 0, queue.EventApprove, ""); err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(2)
			}
			fmt.Fprintf(os.Stdout, "approved %d\n", p.ID)
		}
	}
	os.Exit(3)
}
