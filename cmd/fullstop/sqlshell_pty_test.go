//go:build duckdb_arrow && linux

package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
	"unsafe"
)

// openPty opens a pseudo-terminal of 40 rows and 120 columns and returns
// its controlling side and the terminal.
func openPty(t *testing.T) (*os.File, *os.File) {
	t.Helper()
	ptm, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatalf("no pseudo-terminal: %v", err)
	}
	ioctl := func(req uintptr, arg unsafe.Pointer) error {
		if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, ptm.Fd(), req, uintptr(arg)); e != 0 {
			return e
		}
		return nil
	}
	var unlock int32
	var n uint32
	ws := struct{ row, col, x, y uint16 }{40, 120, 0, 0}
	if err := ioctl(syscall.TIOCSPTLCK, unsafe.Pointer(&unlock)); err != nil {
		t.Fatalf("unlock the pseudo-terminal: %v", err)
	}
	if err := ioctl(syscall.TIOCGPTN, unsafe.Pointer(&n)); err != nil {
		t.Fatalf("pseudo-terminal number: %v", err)
	}
	if err := ioctl(syscall.TIOCSWINSZ, unsafe.Pointer(&ws)); err != nil {
		t.Fatalf("pseudo-terminal size: %v", err)
	}
	pts, err := os.OpenFile("/dev/pts/"+strconv.Itoa(int(n)), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatalf("open the pseudo-terminal: %v", err)
	}
	return ptm, pts
}

// screen collects what a process writes to a terminal.
type screen struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	seen int // where the next wait looks from
}

// waitFor waits until s appears after what the last wait found.
func (sc *screen) waitFor(t *testing.T, s string) {
	t.Helper()
	sc.waitForTyping(t, s, nil)
}

// waitForTyping is waitFor calling typing every half second.
func (sc *screen) waitForTyping(t *testing.T, s string, typing func()) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	next := time.Now().Add(200 * time.Millisecond)
	for {
		if typing != nil && time.Now().After(next) {
			typing()
			next = time.Now().Add(500 * time.Millisecond)
		}
		sc.mu.Lock()
		out := sc.buf.String()
		sc.mu.Unlock()
		if i := strings.Index(out[sc.seen:], s); i >= 0 {
			sc.seen += i + len(s)
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %q on the terminal after:\n%q", s, out[sc.seen:])
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestSQLShell_Terminal runs the shell on a pseudo-terminal: a statement
// over two lines, Ctrl-C on a statement being typed and on a running one,
// Tab completion, Ctrl-D, and the history file.
func TestSQLShell_Terminal(t *testing.T) {
	t.Parallel()
	ptm, pts := openPty(t)
	defer ptm.Close()
	hist := filepath.Join(t.TempDir(), "hist", "sql_history")
	if err := os.MkdirAll(filepath.Dir(hist), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(hist, []byte("SELECT 'from before';\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "sql", "--lake", t.TempDir())
	cmd.Env = append(cleanEnv(), "FULLSTOP_TEST_MAIN=1", "TERM=xterm", "FULLSTOP_SQL_HISTORY="+hist)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = pts, pts, pts
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pts.Close()
	defer cmd.Process.Kill()
	sc := &screen{}
	go func() {
		b := make([]byte, 4096)
		for {
			n, err := ptm.Read(b)
			sc.mu.Lock()
			sc.buf.Write(b[:n])
			sc.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	typeIn := func(s string) {
		if _, err := ptm.WriteString(s); err != nil {
			t.Fatal(err)
		}
	}

	sc.waitFor(t, "type .help")
	sc.waitFor(t, "fullstop> ")
	typeIn("SELECT 40 +\r")
	sc.waitFor(t, "     ...> ")
	typeIn("2 AS answer;\r")
	sc.waitFor(t, "answer\r\n------\r\n42\r\n")
	sc.waitFor(t, "1 row (")

	// Ctrl-C drops the statement being typed.
	sc.waitFor(t, "fullstop> ")
	typeIn("SELECT 'dropped'\r")
	sc.waitFor(t, "     ...> ")
	typeIn("\x03")
	sc.waitFor(t, "fullstop> ")
	typeIn("SELECT 1 AS one;\r")
	sc.waitFor(t, "one\r\n---\r\n1\r\n")

	// Tab completes the command.
	sc.waitFor(t, "fullstop> ")
	typeIn(".tab\t\r")
	sc.waitFor(t, "events  45\r\n")

	// Ctrl-C cancels the running statement; the shell goes on.
	sc.waitFor(t, "fullstop> ")
	typeIn("SELECT count(*) FROM range(1000000000000);\r")
	sc.waitFor(t, "range(1000000000000);")
	sc.waitForTyping(t, "cancelled\r\n", func() { typeIn("\x03") })
	sc.waitFor(t, "fullstop> ")
	typeIn("SELECT 7 AS seven;\r")
	sc.waitFor(t, "seven\r\n-----\r\n7\r\n")

	// Up completes from the history, the file's too.
	sc.waitFor(t, "fullstop> ")
	typeIn("SELECT 'from\x1b[A\r")
	sc.waitFor(t, "'from before'\r\n-------------\r\nfrom before\r\n")

	sc.waitFor(t, "fullstop> ")
	typeIn("\x04") // Ctrl-D
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			sc.mu.Lock()
			t.Fatalf("exit: %v\n%q", err, sc.buf.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Ctrl-D does not end the shell")
	}
	b, err := os.ReadFile(hist)
	if err != nil {
		t.Fatal(err)
	}
	want := "SELECT 'from before';\nSELECT 40 + 2 AS answer;\nSELECT 1 AS one;\n.tables\nSELECT count(*) FROM range(1000000000000);\nSELECT 7 AS seven;\nSELECT 'from before';\n"
	if string(b) != want {
		t.Fatalf("history file:\n%s\nwant:\n%s", b, want)
	}
}
