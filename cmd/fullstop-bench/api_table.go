package main

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// ms formats a latency in milliseconds.
func ms(d time.Duration) string {
	v := float64(d) / float64(time.Millisecond)
	switch {
	case v >= 100:
		return fmt.Sprintf("%.0f ms", v)
	case v >= 10:
		return fmt.Sprintf("%.1f ms", v)
	}
	return fmt.Sprintf("%.2f ms", v)
}

// perSecond formats a rate.
func perSecond(v float64) string {
	if v >= 100 {
		return thousands(int64(v + 0.5))
	}
	return fmt.Sprintf("%.1f", v)
}

// statusSummary lists the answers' status codes other than 200, "" if
// there are none: "503×3, 0×1" (0: no answer).
func statusSummary(ms ...*vegeta.Metrics) string {
	counts := map[string]int{}
	for _, m := range ms {
		if m == nil {
			continue
		}
		for code, n := range m.StatusCodes {
			if code != "200" {
				counts[code] += n
			}
		}
	}
	codes := make([]string, 0, len(counts))
	for c := range counts {
		codes = append(codes, c)
	}
	slices.Sort(codes)
	parts := make([]string, len(codes))
	for i, c := range codes {
		parts[i] = fmt.Sprintf("%s×%d", c, counts[c])
	}
	return strings.Join(parts, ", ")
}

// ok200 is the share of 200 answers of both attacks.
func ok200(ms ...*vegeta.Metrics) string {
	var ok, all int
	for _, m := range ms {
		if m == nil {
			continue
		}
		ok += m.StatusCodes["200"]
		all += int(m.Requests)
	}
	if all == 0 {
		return "—"
	}
	if ok == all {
		return "100%"
	}
	return fmt.Sprintf("%.2f%%", 100*float64(ok)/float64(all))
}

// aimMet says whether r meets its case's aim.
func aimMet(r apiResult) string {
	a := r.c.aim
	if a == nil {
		return "—"
	}
	if r.fixed.Latencies.P99 <= a.P99 && r.fixed.StatusCodes["200"] == int(r.fixed.Requests) && r.fixed.Rate >= 0.95*float64(a.Rate) {
		return "yes"
	}
	return "no"
}

// printAPIResults prints the table of one phase.
func printAPIResults(w io.Writer, label string, o *apiOptions, rs []apiResult) {
	fmt.Fprintf(w, "\nREST API, %s: saturation = max-rate attack with %d workers for %s (vegeta's rate 0); fixed = %s at the case's rate "+
		"(up to %d requests in flight; achieved below the rate: the server cannot keep up):\n\n",
		label, o.workers, o.duration, o.duration, o.fixedMax)
	t := &table{left: 2, header: []string{"case", "what", "saturation req/s", "sat. p50", "fixed rate", "achieved", "p50", "p99", "200s", "non-200", "aim", "met"}}
	for _, r := range rs {
		non := statusSummary(r.fixed, r.sat)
		if non == "" {
			non = "0"
		}
		t.add("("+r.c.name+")", r.c.label, perSecond(r.sat.Throughput), ms(r.sat.Latencies.P50), strconv.Itoa(r.c.rate)+"/s",
			perSecond(r.fixed.Rate)+"/s", ms(r.fixed.Latencies.P50), ms(r.fixed.Latencies.P99), ok200(r.fixed, r.sat), non, r.c.aim.String(), aimMet(r))
	}
	t.write(w)
	for _, r := range rs {
		if len(r.sat.Errors)+len(r.fixed.Errors) > 0 {
			errs := append(append([]string(nil), r.fixed.Errors...), r.sat.Errors...)
			if len(errs) > 5 {
				errs = errs[:5]
			}
			fmt.Fprintf(w, "(%s) errors: %s\n", r.c.name, strings.Join(errs, "; "))
		}
	}
}

// ratio formats a ÷ b.
func ratio(a, b float64) string {
	if b == 0 {
		return "—"
	}
	return fmt.Sprintf("%.2f", a/b)
}

// printAPICompare prints the before/after table of --compare-indexes.
func printAPICompare(w io.Writer, without, with []apiResult) {
	fmt.Fprintf(w, "\nThe indexes of %s, on the same data in the same session: without ÷ with for latencies (above 1: faster with them), with ÷ without for req/s (above 1: more with them):\n\n", apiIndexMigration)
	t := &table{left: 1, header: []string{"case", "p50 without", "p50 with", "÷", "p99 without", "p99 with", "÷", "sat. req/s without", "sat. req/s with", "÷"}}
	byCase := map[string]apiResult{}
	for _, r := range with {
		byCase[r.c.name] = r
	}
	for _, a := range without {
		b, ok := byCase[a.c.name]
		if !ok {
			continue
		}
		t.add("("+a.c.name+")",
			ms(a.fixed.Latencies.P50), ms(b.fixed.Latencies.P50), ratio(float64(a.fixed.Latencies.P50), float64(b.fixed.Latencies.P50)),
			ms(a.fixed.Latencies.P99), ms(b.fixed.Latencies.P99), ratio(float64(a.fixed.Latencies.P99), float64(b.fixed.Latencies.P99)),
			perSecond(a.sat.Throughput), perSecond(b.sat.Throughput), ratio(b.sat.Throughput, a.sat.Throughput))
	}
	t.write(w)
}
