package awstest

import (
	"bytes"
	"encoding/xml"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// queryProtocol answers an awsQuery service (STS, IAM): results as
// <ActionResponse><ActionResult>…</ActionResult><ResponseMetadata>, errors
// as <ErrorResponse><Error>…</Error><RequestId>.
type queryProtocol struct {
	ns      string // XML namespace of the API version
	actions map[string]handler
}

func (p queryProtocol) handler(action string) (handler, bool) {
	h, ok := p.actions[action]
	return h, ok
}

func (p queryProtocol) writeResult(w http.ResponseWriter, r *request, v any) {
	var buf bytes.Buffer
	enc := xml.NewEncoder(&buf)
	root := xml.StartElement{Name: xml.Name{Local: r.action + "Response"}, Attr: xmlns(p.ns)}
	err := enc.EncodeToken(root)
	if err == nil && v != nil {
		err = enc.EncodeElement(v, xml.StartElement{Name: xml.Name{Local: r.action + "Result"}})
	}
	if err == nil {
		err = enc.EncodeElement(responseMetadata{RequestID: r.id}, xml.StartElement{Name: xml.Name{Local: "ResponseMetadata"}})
	}
	if err == nil {
		err = enc.EncodeToken(root.End())
	}
	if err == nil {
		err = enc.Flush()
	}
	if err != nil {
		p.writeError(w, r, errorf(http.StatusInternalServerError, "InternalFailure", "encoding the response: %v", err))
		return
	}
	writeBody(w, "text/xml", http.StatusOK, buf.Bytes())
}

type responseMetadata struct {
	RequestID string `xml:"RequestId"`
}

type queryErrorResponse struct {
	XMLName   xml.Name   `xml:"ErrorResponse"`
	Xmlns     string     `xml:"xmlns,attr,omitempty"`
	Error     queryError `xml:"Error"`
	RequestID string     `xml:"RequestId"`
}

type queryError struct {
	Type    string `xml:"Type"`
	Code    string `xml:"Code"`
	Message string `xml:"Message"`
}

func (p queryProtocol) writeError(w http.ResponseWriter, r *request, e *apiError) {
	typ := "Sender"
	if e.status >= 500 {
		typ = "Receiver"
	}
	body, err := xml.Marshal(queryErrorResponse{
		Xmlns:     p.ns,
		Error:     queryError{Type: typ, Code: e.code, Message: e.message},
		RequestID: r.id,
	})
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	writeBody(w, "text/xml", e.status, body)
}

func xmlns(ns string) []xml.Attr {
	if ns == "" {
		return nil
	}
	return []xml.Attr{{Name: xml.Name{Local: "xmlns"}, Value: ns}}
}

func writeBody(w http.ResponseWriter, contentType string, status int, body []byte) {
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	w.Write(body)
}

// members returns the values of a flattened list parameter, prefix.1,
// prefix.2, …, in index order.
func members(form url.Values, prefix string) []string {
	var vs []string
	for _, i := range indices(form, prefix) {
		vs = append(vs, form.Get(prefix+"."+strconv.Itoa(i)))
	}
	return vs
}

// indices returns, sorted, the indices N of the parameters named prefix.N
// or prefix.N.something.
func indices(form url.Values, prefix string) []int {
	seen := map[int]bool{}
	for k := range form {
		rest, ok := strings.CutPrefix(k, prefix+".")
		if !ok {
			continue
		}
		n, _, _ := strings.Cut(rest, ".")
		if i, err := strconv.Atoi(n); err == nil && i > 0 {
			seen[i] = true
		}
	}
	var is []int
	for i := range seen {
		is = append(is, i)
	}
	slices.Sort(is)
	return is
}

// intParam returns the integer parameter name, 0 when absent.
func intParam(form url.Values, name string) (int, bool) {
	v := form.Get(name)
	if v == "" {
		return 0, true
	}
	n, err := strconv.Atoi(v)
	return n, err == nil && n >= 0
}

// pageLimit returns the most items of one page: the smaller positive one
// of the server's page size and the request's maximum, 0 for no limit.
func pageLimit(pageSize, max int) int {
	switch {
	case pageSize <= 0:
		return max
	case max <= 0:
		return pageSize
	}
	return min(pageSize, max)
}

const tokenPrefix = "awstest-page-"

// page returns the bounds of the page of n items that token starts (""
// for the first), of at most limit items (0: all), and the token of the
// next page, "" for the last. ok is false for a token the server did not
// issue.
func page(n, limit int, token string) (start, end int, next string, ok bool) {
	if token != "" {
		v, found := strings.CutPrefix(token, tokenPrefix)
		i, err := strconv.Atoi(v)
		if !found || err != nil || i < 0 || i > n {
			return 0, 0, "", false
		}
		start = i
	}
	end = n
	if limit > 0 && start+limit < n {
		end = start + limit
		next = tokenPrefix + strconv.Itoa(end)
	}
	return start, end, next, true
}

// match reports whether s matches the EC2 filter pattern, in which * is
// any string and ? any one character.
func match(pattern, s string) bool {
	if !strings.ContainsAny(pattern, "*?") {
		return pattern == s
	}
	p, t := []rune(pattern), []rune(s)
	// Greedy matching with backtracking to the last star.
	pi, ti, star, mark := 0, 0, -1, 0
	for ti < len(t) {
		switch {
		case pi < len(p) && (p[pi] == '?' || p[pi] == t[ti]):
			pi++
			ti++
		case pi < len(p) && p[pi] == '*':
			star, mark = pi, ti
			pi++
		case star >= 0:
			pi = star + 1
			mark++
			ti = mark
		default:
			return false
		}
	}
	for pi < len(p) && p[pi] == '*' {
		pi++
	}
	return pi == len(p)
}

// matchAny reports whether s matches one of the patterns.
func matchAny(patterns []string, s string) bool {
	return slices.ContainsFunc(patterns, func(p string) bool { return match(p, s) })
}
