package audit

import "slices"

// Params returns the names of the $name parameters of a statement, in
// order of first use, skipping string literals, quoted identifiers and
// comments. Positional parameters ($1) are not named and are left out.
func Params(q string) []string {
	var out []string
	for i := 0; i < len(q); i++ {
		c := q[i]
		switch {
		case c == '\'' || c == '"':
			// A quoted string or identifier; a doubled quote escapes one.
			for i++; i < len(q); i++ {
				if q[i] == c {
					if i+1 < len(q) && q[i+1] == c {
						i++
						continue
					}
					break
				}
			}
		case c == '-' && i+1 < len(q) && q[i+1] == '-':
			for i < len(q) && q[i] != '\n' {
				i++
			}
		case c == '/' && i+1 < len(q) && q[i+1] == '*':
			i += 2
			for i+1 < len(q) && !(q[i] == '*' && q[i+1] == '/') {
				i++
			}
			i++
		case c == '$' && i+1 < len(q) && isIdentStart(q[i+1]):
			j := i + 1
			for j < len(q) && isIdentPart(q[j]) {
				j++
			}
			if name := q[i+1 : j]; !slices.Contains(out, name) {
				out = append(out, name)
			}
			i = j - 1
		}
	}
	return out
}

func isIdentStart(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

func isIdentPart(c byte) bool { return isIdentStart(c) || c >= '0' && c <= '9' }
