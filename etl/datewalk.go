package etl

import (
	"fmt"
	"time"
)

// The levels of the date folders below a region folder.
const (
	levelRegion = iota // .../<region>/: holds year folders
	levelYear          // .../<yyyy>/: holds month folders
	levelMonth         // .../<mm>/: holds day folders
	levelDay           // .../<dd>/: holds log files
)

// maxExtraLists is the most a walk may cost, as a fraction of the day
// folders of the range, on top of listing every day folder: a folder is
// listed for its sub-folders only if that costs at most 1/maxExtraLists
// more LIST calls than listing its days one by one, even when every day has
// a folder.
const maxExtraLists = 10

// dateFolder is a region folder or a date folder below one.
type dateFolder struct {
	prefix string    // the folder, ending in "/"
	region string    // its region folder, ending in "/"
	level  int       // levelRegion ... levelDay
	start  time.Time // UTC midnight of its first day; zero for a region
}

// dateWalk decides which date folders a listing of the days [first, end)
// lists with a delimiter and which it replaces by their days.
//
// Listing a folder costs one call and then only its sub-folders that exist
// are followed; not listing it means listing each of its days in the range,
// whether the day folder exists or not. The walk lists a folder when, in
// the worst case that every day of the range has a folder, that costs at
// most 1/maxExtraLists more calls. So a short range (up to nine days) lists
// its day folders directly, as before, a month is listed when ten or more of
// its days are in the range, and a range of years costs a few calls per
// year and month that exist plus one per day folder that exists.
//
// The decisions depend only on the calendar, not on the folders found, and
// are the same for every region. lists and days are not safe for
// concurrent use; child is.
type dateWalk struct {
	first, end time.Time // UTC midnights
	memo       map[walkKey]walkCost
}

type walkKey struct {
	level int
	start time.Time
}

type walkCost struct {
	list  bool // list the folder with a delimiter
	worst int  // LIST calls below and including it when every day exists
}

// newDateWalk returns the walk of the days that overlap [from, to); from is
// before to.
func newDateWalk(from, to time.Time) *dateWalk {
	from, to = from.UTC(), to.UTC()
	first := midnight(from)
	end := midnight(to)
	if end.Before(to) {
		end = end.AddDate(0, 0, 1)
	}
	return &dateWalk{first: first, end: end, memo: map[walkKey]walkCost{}}
}

func midnight(t time.Time) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// span returns the days of f inside the range: [a, b), empty when b is not
// after a.
func (w *dateWalk) span(f dateFolder) (a, b time.Time) {
	switch f.level {
	case levelRegion:
		return w.first, w.end
	case levelYear:
		a, b = f.start, f.start.AddDate(1, 0, 0)
	case levelMonth:
		a, b = f.start, f.start.AddDate(0, 1, 0)
	default:
		a, b = f.start, f.start.AddDate(0, 0, 1)
	}
	if a.Before(w.first) {
		a = w.first
	}
	if b.After(w.end) {
		b = w.end
	}
	return a, b
}

// dayCount returns the number of days of f inside the range.
func (w *dateWalk) dayCount(f dateFolder) int {
	a, b := w.span(f)
	if !b.After(a) {
		return 0
	}
	return int(b.Sub(a) / (24 * time.Hour))
}

// lists reports whether f is listed for its sub-folders rather than
// replaced by its days.
func (w *dateWalk) lists(f dateFolder) bool {
	return w.cost(f).list
}

func (w *dateWalk) cost(f dateFolder) walkCost {
	if f.level == levelDay {
		return walkCost{worst: 1}
	}
	k := walkKey{f.level, f.start}
	if c, ok := w.memo[k]; ok {
		return c
	}
	days := w.dayCount(f)
	listed := 1
	for _, c := range w.calendarChildren(f) {
		listed += w.cost(c).worst
	}
	c := walkCost{worst: days}
	if days > 0 && (listed-days)*maxExtraLists <= days {
		c = walkCost{list: true, worst: listed}
	}
	w.memo[k] = c
	return c
}

// calendarChildren returns the sub-folders f would have in the range if
// every one existed.
func (w *dateWalk) calendarChildren(f dateFolder) []dateFolder {
	a, b := w.span(f)
	if !b.After(a) {
		return nil
	}
	var out []dateFolder
	switch f.level {
	case levelRegion:
		for y := a.Year(); y <= b.AddDate(0, 0, -1).Year(); y++ {
			out = append(out, dateFolder{region: f.region, level: levelYear, start: time.Date(y, 1, 1, 0, 0, 0, 0, time.UTC)})
		}
	case levelYear:
		for m := time.Date(a.Year(), a.Month(), 1, 0, 0, 0, 0, time.UTC); m.Before(b); m = m.AddDate(0, 1, 0) {
			out = append(out, dateFolder{region: f.region, level: levelMonth, start: m})
		}
	case levelMonth:
		for d := a; d.Before(b); d = d.AddDate(0, 0, 1) {
			out = append(out, dateFolder{region: f.region, level: levelDay, start: d})
		}
	}
	return out
}

// days returns the day folders of f inside the range.
func (w *dateWalk) days(f dateFolder) []string {
	a, b := w.span(f)
	var out []string
	for d := a; d.Before(b); d = d.AddDate(0, 0, 1) {
		out = append(out, dayFolder(f.region, d))
	}
	return out
}

// child returns the sub-folder of f that the common prefix p of a LIST of
// f names, if it is a date folder of the next level that overlaps the
// range. Names that CloudTrail does not write (a year of other than four
// digits, month 13, February 30 ...) are not followed; ParseKey would
// refuse the keys in them.
func (w *dateWalk) child(f dateFolder, p string) (dateFolder, bool) {
	name := lastElem(p)
	c := dateFolder{prefix: f.prefix + name + "/", region: f.region, level: f.level + 1}
	var ok bool
	switch f.level {
	case levelRegion:
		c.start, ok = parseFolderDate(name, "01", "01")
	case levelYear:
		c.start, ok = parseFolderDate(fmt.Sprintf("%04d", f.start.Year()), name, "01")
	case levelMonth:
		c.start, ok = parseFolderDate(fmt.Sprintf("%04d", f.start.Year()), fmt.Sprintf("%02d", int(f.start.Month())), name)
	}
	if !ok || w.dayCount(c) == 0 {
		return dateFolder{}, false
	}
	return c, true
}

// dayFolder returns the day folder of day below a region folder.
func dayFolder(region string, day time.Time) string {
	y, m, d := day.Date()
	return fmt.Sprintf("%s%04d/%02d/%02d/", region, y, int(m), d)
}
