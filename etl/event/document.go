package event

// This file holds the fast path's walk over a whole document. It accepts
// only a valid CloudTrail document: an object with one Records member, an
// array or null, and nothing after it. It returns false on anything else,
// leaving the error to the reference path.

// scanDocument decodes the document p[:n] (followed by padLen NUL bytes)
// into res and d's rows. It returns false, with res and the rows to be
// dropped, when the document is not valid JSON, nests too deeply or is not
// CloudTrail.
func (d *Decoder) scanDocument(p []byte, n int, o Origin, res *Result) bool {
	i := skipSpace(p, 0)
	if p[i] != '{' {
		return false
	}
	if i = skipSpace(p, i+1); p[i] == '}' {
		return false // no Records
	}
	found := false
	for {
		if p[i] != '"' {
			return false
		}
		end, plain := scanString(p, i)
		if end < 0 {
			return false
		}
		records := string(d.rec.memberName(p[i+1:end-1], plain)) == "Records"
		if i = skipSpace(p, end); p[i] != ':' {
			return false
		}
		i = skipSpace(p, i+1)
		if records {
			if found {
				return false
			}
			found = true
			i = d.scanRecords(p, i, o, res)
		} else {
			i = skipValue(p, i, 0)
		}
		if i < 0 {
			return false
		}
		var more bool
		if i, more = next(p, i, '}'); !more {
			break
		}
	}
	return found && i >= 0 && skipSpace(p, i) == n
}

// scanRecords decodes the value of the Records member at p[i]: null or an
// array of records.
func (d *Decoder) scanRecords(p []byte, i int, o Origin, res *Result) int {
	if p[i] == 'n' {
		return scanLiteral(p, i, "null")
	}
	if p[i] != '[' {
		return -1
	}
	i = skipSpace(p, i+1)
	if p[i] == ']' {
		return i + 1
	}
	for index := 0; ; index++ {
		end, err := d.rec.read(p, i, d.maxRecordBytes)
		if end < 0 {
			return -1
		}
		d.add(o, index, err, res)
		var more bool
		if i, more = next(p, end, ']'); !more {
			return i
		}
	}
}
