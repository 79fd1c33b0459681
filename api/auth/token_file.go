package auth

import (
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"
)

// maxTokenFileBytes bounds the size of a service token file.
const maxTokenFileBytes = 64 << 10

// FileToken returns a token source that provides the content of the file
// at path (FULLSTOP_SERVICE_TOKEN_FILE), trimmed. It reads the file again
// whenever its modification time or size changed, so a rotated token (a
// Kubernetes-mounted secret, say) is picked up. An unreadable or empty
// file is an error.
func FileToken(path string) oauth2.TokenSource {
	return &fileToken{path: path}
}

// fileToken is the token source of FileToken; it remembers the token last
// read with the modification time and size of its file.
type fileToken struct {
	path string

	mu      sync.Mutex
	token   string
	modTime time.Time
	size    int64
}

// Token returns the token of the file, read again if the file changed.
func (f *fileToken) Token() (*oauth2.Token, error) {
	fi, err := os.Stat(f.path)
	if err != nil {
		return nil, fmt.Errorf("service token file: %w", err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.token == "" || fi.Size() != f.size || !fi.ModTime().Equal(f.modTime) {
		if err := f.read(fi); err != nil {
			return nil, err
		}
	}
	return &oauth2.Token{AccessToken: f.token, TokenType: "Bearer"}, nil
}

// read reads the file, whose state fi was just taken.
func (f *fileToken) read(fi os.FileInfo) error {
	if fi.IsDir() {
		return fmt.Errorf("service token file %s is a directory", f.path)
	}
	if fi.Size() > maxTokenFileBytes {
		return fmt.Errorf("service token file %s is larger than %d bytes", f.path, maxTokenFileBytes)
	}
	b, err := os.ReadFile(f.path)
	if err != nil {
		return fmt.Errorf("service token file: %w", err)
	}
	token := strings.TrimSpace(string(b))
	if token == "" {
		return fmt.Errorf("service token file %s is empty", f.path)
	}
	f.token, f.modTime, f.size = token, fi.ModTime(), fi.Size()
	return nil
}
