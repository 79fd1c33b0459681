package pgtest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

const (
	dirPrefix    = "fullstop-pgtest-"
	ownerFile    = "owner.pid" // pid of the test process that owns a cluster directory
	startTimeout = time.Minute
	stopTimeout  = 30 * time.Second
	startTries   = 5 // a free port can be taken by someone else before postgres binds it
)

// cluster is a running throwaway PostgreSQL server.
type cluster struct {
	dir    string // temporary directory: data/, the socket, the log
	url    string // maintenance database as superuser "postgres"
	proc   *os.Process
	exited chan error // receives the result of waiting for postgres
}

// startCluster creates and starts a new cluster in a temporary directory.
func startCluster() (*cluster, error) {
	bin, err := findBinaries()
	if err != nil {
		return nil, err
	}
	cred, err := serverUser()
	if err != nil {
		return nil, err
	}
	removeStale()
	dir, err := os.MkdirTemp("", dirPrefix)
	if err != nil {
		return nil, fmt.Errorf("create cluster directory: %w", err)
	}
	c, err := initAndStart(bin, dir, cred)
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	return c, nil
}

func initAndStart(bin, dir string, cred *syscall.Credential) (*cluster, error) {
	if err := os.WriteFile(filepath.Join(dir, ownerFile), []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
		return nil, fmt.Errorf("write %s: %w", ownerFile, err)
	}
	if cred != nil {
		if err := os.Chown(dir, int(cred.Uid), int(cred.Gid)); err != nil {
			return nil, fmt.Errorf("hand cluster directory to the postgres user: %w", err)
		}
	}
	data := filepath.Join(dir, "data")
	initdb := exec.Command(filepath.Join(bin, "initdb"), "-D", data, "-U", "postgres", "-A", "trust",
		"-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions")
	initdb.Env = append(os.Environ(), "LC_ALL=C")
	initdb.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	if out, err := initdb.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("initdb: %w: %s", err, strings.TrimSpace(string(out)))
	}
	var lastErr error
	for range startTries {
		c, retry, err := startPostgres(bin, dir, cred)
		if err == nil {
			return c, nil
		}
		lastErr = err
		if !retry {
			break
		}
	}
	return nil, lastErr
}

// startPostgres starts the server on a free port and waits until it
// accepts connections. retry is true when the port was taken.
func startPostgres(bin, dir string, cred *syscall.Credential) (c *cluster, retry bool, err error) {
	port, err := freePort()
	if err != nil {
		return nil, false, err
	}
	logPath := filepath.Join(dir, "postgres.log")
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, false, fmt.Errorf("create server log: %w", err)
	}
	defer logFile.Close()
	cmd := exec.Command(filepath.Join(bin, "postgres"),
		"-D", filepath.Join(dir, "data"),
		"-p", strconv.Itoa(port),
		"-k", dir,
		"-c", "listen_addresses=127.0.0.1",
		"-c", "fsync=off",
		"-c", "synchronous_commit=off",
		"-c", "full_page_writes=off",
		"-c", "shared_buffers=32MB",
		"-c", "max_connections=200",
	)
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	cmd.Stdout, cmd.Stderr = logFile, logFile
	// The server goes down with the test process, even when that one is
	// killed (go test -timeout).
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred, Pdeathsig: syscall.SIGINT}

	started := make(chan error, 1)
	exited := make(chan error, 1)
	go func() {
		// The parent-death signal belongs to the thread that started the
		// process: keep that thread alive for as long as postgres runs.
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		exited <- cmd.Wait()
	}()
	if err := <-started; err != nil {
		return nil, false, fmt.Errorf("start postgres: %w", err)
	}
	c = &cluster{
		dir:    dir,
		url:    fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", port),
		proc:   cmd.Process,
		exited: exited,
	}
	if err := c.waitReady(); err != nil {
		_ = c.kill()
		serverLog, _ := os.ReadFile(logPath)
		retry = strings.Contains(string(serverLog), "could not bind") || strings.Contains(string(serverLog), "already in use")
		return nil, retry, fmt.Errorf("start postgres: %w; server log:\n%s", err, tail(string(serverLog), 2000))
	}
	return c, false, nil
}

// waitReady polls the server until it accepts a connection.
func (c *cluster) waitReady() error {
	deadline := time.Now().Add(startTimeout)
	for {
		select {
		case err := <-c.exited:
			c.exited <- err
			return fmt.Errorf("postgres exited: %v", err)
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		conn, err := pgx.Connect(ctx, c.url)
		if err == nil {
			_ = conn.Close(ctx)
			cancel()
			return nil
		}
		cancel()
		if time.Now().After(deadline) {
			return fmt.Errorf("postgres not ready after %s: %w", startTimeout, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// stop shuts the server down (fast shutdown) and removes its directory.
func (c *cluster) stop() error {
	err := c.kill()
	if rmErr := os.RemoveAll(c.dir); rmErr != nil && err == nil {
		err = fmt.Errorf("remove cluster directory: %w", rmErr)
	}
	return err
}

// kill stops the server process: SIGINT, then SIGKILL after stopTimeout.
func (c *cluster) kill() error {
	if err := c.proc.Signal(syscall.SIGINT); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("stop postgres: %w", err)
	}
	select {
	case <-c.exited:
		return nil
	case <-time.After(stopTimeout):
	}
	_ = c.proc.Kill()
	<-c.exited
	return fmt.Errorf("stop postgres: no shutdown within %s, killed", stopTimeout)
}

// findBinaries returns the directory holding initdb and postgres: the one of
// initdb on PATH, else the newest /usr/lib/postgresql/<version>/bin.
func findBinaries() (string, error) {
	var dirs []string
	if p, err := exec.LookPath("initdb"); err == nil {
		if real, err := filepath.EvalSymlinks(p); err == nil {
			dirs = append(dirs, filepath.Dir(real))
		}
		dirs = append(dirs, filepath.Dir(p))
	}
	versions, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	slices.SortFunc(versions, func(a, b string) int {
		return versionOf(b) - versionOf(a)
	})
	dirs = append(dirs, versions...)
	for _, d := range dirs {
		if isFile(filepath.Join(d, "initdb")) && isFile(filepath.Join(d, "postgres")) {
			return d, nil
		}
	}
	return "", fmt.Errorf("PostgreSQL server binaries (initdb, postgres) not found on PATH or in /usr/lib/postgresql/*/bin: install PostgreSQL (15 or newer) or set %s to a server's URL", EnvURL)
}

// versionOf reads the major version from /usr/lib/postgresql/<version>/bin.
func versionOf(binDir string) int {
	v, err := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	if err != nil {
		return -1
	}
	return v
}

func isFile(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular()
}

// serverUser returns the credentials to run the server with: nil for the
// current user, the user "postgres" when running as root.
func serverUser() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("running as root, and PostgreSQL refuses to run as root: need the user \"postgres\" to run the test server: %w", err)
	}
	uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
	gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
	if err := errors.Join(err1, err2); err != nil {
		return nil, fmt.Errorf("user postgres: %w", err)
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

// freePort asks the kernel for a free TCP port on 127.0.0.1.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// removeStale deletes cluster directories left behind by test processes
// that are gone (killed before they could clean up; their server went down
// with them).
func removeStale() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), dirPrefix+"*"))
	for _, d := range dirs {
		fi, err := os.Stat(d)
		if err != nil || !fi.IsDir() || time.Since(fi.ModTime()) < time.Minute {
			continue
		}
		if alive(filepath.Join(d, ownerFile)) || alive(filepath.Join(d, "data", "postmaster.pid")) {
			continue
		}
		_ = os.RemoveAll(d)
	}
}

// alive reports whether the process whose pid is the first line of the file
// exists; an unreadable file counts as alive, a missing one as not.
func alive(pidFile string) bool {
	b, err := os.ReadFile(pidFile)
	if errors.Is(err, os.ErrNotExist) {
		return false
	}
	if err != nil {
		return true
	}
	line, _, _ := strings.Cut(string(b), "\n")
	pid, err := strconv.Atoi(strings.TrimSpace(line))
	if err != nil || pid <= 0 {
		return true
	}
	return !errors.Is(syscall.Kill(pid, 0), syscall.ESRCH)
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "..." + s[len(s)-n:]
}
