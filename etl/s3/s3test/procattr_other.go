//go:build !linux

package s3test

import "syscall"

// sysProcAttr returns nil: only Linux can tie MinIO's life to the test
// process; elsewhere Main must stop it.
func sysProcAttr() *syscall.SysProcAttr { return nil }
