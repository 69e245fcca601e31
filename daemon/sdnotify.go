package daemon

import (
	"fmt"
	"time"

	sd "github.com/coreos/go-systemd/v22/daemon"
	"golang.org/x/sys/unix"
)

// systemd readiness protocol (Type=notify). Each call is a no-op when NOTIFY_SOCKET is not
// set, so the daemon behaves the same outside systemd.

func notifyReady()    { _, _ = sd.SdNotify(false, sd.SdNotifyReady) }
func notifyStopping() { _, _ = sd.SdNotify(false, sd.SdNotifyStopping) }

// notifyReloading tells systemd a reload started; it must carry MONOTONIC_USEC for
// Type=notify-reload units, harmless for Type=notify.
func notifyReloading() {
	var ts unix.Timespec
	_ = unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts)
	usec := ts.Sec*int64(time.Second/time.Microsecond) + ts.Nsec/int64(time.Microsecond)
	_, _ = sd.SdNotify(false, fmt.Sprintf("%s\nMONOTONIC_USEC=%d", sd.SdNotifyReloading, usec))
}

func notifyStatus(s string) { _, _ = sd.SdNotify(false, "STATUS="+s) }
