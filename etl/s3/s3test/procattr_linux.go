package s3test

import "syscall"

// sysProcAttr kills MinIO when the test process dies without calling Main.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
