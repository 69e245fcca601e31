package clock

import (
	"testing"
	"time"
)

var start = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func fired(t Timer) bool {
	select {
	case <-t.C():
		return true
	default:
		return false
	}
}

func TestFakeFiresOnlyWhenTimeComes(t *testing.T) {
	f := NewFake(start)
	a := f.NewTimer(time.Minute)
	b := f.NewTimer(time.Hour)
	f.Advance(59 * time.Second)
	if fired(a) || fired(b) {
		t.Fatal("a timer fired before its deadline")
	}
	f.Advance(time.Second)
	if !fired(a) {
		t.Fatal("the 1m timer did not fire at 1m")
	}
	if fired(b) {
		t.Fatal("the 1h timer fired at 1m")
	}
	if got := f.Timers(); len(got) != 1 || !got[0].Equal(start.Add(time.Hour)) {
		t.Fatalf("pending timers = %v, want only the 1h one", got)
	}
	f.Set(start.Add(2 * time.Hour))
	if !fired(b) {
		t.Fatal("Set past the deadline did not fire the 1h timer")
	}
	if !f.Now().Equal(start.Add(2 * time.Hour)) {
		t.Fatalf("Now = %v", f.Now())
	}
}

func TestFakeStopAndImmediate(t *testing.T) {
	f := NewFake(start)
	a := f.NewTimer(time.Minute)
	if !a.Stop() {
		t.Fatal("Stop of a pending timer returned false")
	}
	if a.Stop() {
		t.Fatal("second Stop returned true")
	}
	f.Advance(time.Hour)
	if fired(a) {
		t.Fatal("a stopped timer fired")
	}
	if !fired(f.NewTimer(0)) || !fired(f.NewTimer(-time.Second)) {
		t.Fatal("a timer for now or the past did not fire at once")
	}
	f.Set(start) // backwards: ignored
	if !f.Now().Equal(start.Add(time.Hour)) {
		t.Fatal("Set moved the clock backwards")
	}
}

func TestFakeWaitForTimer(t *testing.T) {
	f := NewFake(start)
	go func() { f.NewTimer(time.Second); f.NewTimer(time.Hour) }()
	if !f.WaitForTimer(nil, func(at time.Time) bool { return at.Equal(start.Add(time.Hour)) }) {
		t.Fatal("WaitForTimer returned false")
	}
	done := make(chan struct{})
	close(done)
	if f.WaitForTimer(done, func(time.Time) bool { return false }) {
		t.Fatal("WaitForTimer with a closed done and no match returned true")
	}
}

func TestRealUntil(t *testing.T) {
	tm := Until(Real{}, time.Now().Add(-time.Second))
	<-tm.C() // a deadline in the past fires at once
}
