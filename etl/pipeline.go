package etl

import (
	"bytes"
	"cmp"
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"runtime"
	"sort"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"golang.org/x/sync/errgroup"

	"github.com/fullstop-audit/fullstop/etl/event"
	"github.com/fullstop-audit/fullstop/rules"
)

// Evaluator runs the rules over a set of event batches.
type Evaluator interface {
	Evaluate(ctx context.Context, batches []arrow.RecordBatch) (rules.Findings, error)
}

// Defaults of Config.
const (
	DefaultMaxObjectSize      = 256 << 20
	DefaultMaxAttempts        = 3
	DefaultGroupSize          = 64
	DefaultGroupViolations    = 4096
	DefaultEvalEvents         = 50_000
	DefaultLease              = 2 * time.Minute
	DefaultSourceFailureLimit = 10
	DefaultStopTimeout        = 30 * time.Second
	// decompressedFactor bounds the decompressed size of an object to this
	// multiple of MaxObjectSize (a guard against gzip bombs).
	decompressedFactor = 32
	// releaseTimeout bounds giving up the leases at the end of a batch; if
	// the database does not answer, they expire by themselves.
	releaseTimeout = 3 * time.Second
	// maxUnreadLogged is how many objects the source could not give are
	// logged one by one; the rest are counted.
	maxUnreadLogged = 20
)

// Config configures a Pipeline. Zero fields get the documented defaults.
type Config struct {
	Lister    *Lister   // lists the candidate objects; required
	Evaluator Evaluator // the rules; required
	Ledger    Ledger    // the store; required
	Log       *slog.Logger

	Workers int // parallel objects; default runtime.NumCPU()
	// Fetchers is how many objects are being read from the source at once,
	// ahead of the workers, so that workers do not wait for the network;
	// default 4 × Workers. Each holds one object's stored bytes.
	Fetchers      int
	MaxObjectSize int64 // larger objects fail without being read; default 256 MiB
	// MaxAttempts is how many times an object's content may fail to read
	// as a CloudTrail document before it is quarantined; default 3. A
	// source that cannot be read counts no attempt.
	MaxAttempts int
	GroupSize   int // objects committed per transaction; default 64
	// GroupViolations ends a group before GroupSize objects once it holds
	// this many violations; default 4096. It bounds a transaction's size
	// and the violations held in memory, and the last group's commit, which
	// nothing else overlaps, stays short when rules find many violations.
	GroupViolations int
	// EvalEvents is how many events a worker gathers, from one or more
	// objects, before it runs the rules over them in one go; default
	// 50,000. Memory grows with Workers × EvalEvents.
	EvalEvents int
	Reprocess  bool // process objects the ledger already holds as done or quarantined

	// Lease is how long a claim on an object lasts without renewal; the
	// batch renews its claims every Lease/3 while it works. A batch that
	// dies keeps its objects from other batches this long. Default
	// DefaultLease.
	Lease time.Duration
	// Holder names this batch in the leases; default host:pid:random.
	Holder string
	// SourceFailureLimit is how many objects in a row the source may fail
	// to give (or the rules fail on) before the batch stops early, commits
	// what is finished and returns a *SourceError; default
	// DefaultSourceFailureLimit.
	SourceFailureLimit int
	// StopTimeout is how long the objects being worked on may take to
	// finish once ctx is cancelled; after it they are abandoned (their
	// group is not committed; the next batch reads them). Default
	// DefaultStopTimeout.
	StopTimeout time.Duration

	// Progress, if set, is called after every committed group and failed
	// object with the number of objects finished so far and the total.
	Progress func(p Progress)
	// Metrics, if set, counts each batch's objects by outcome, the
	// rewritten objects and the batches.
	Metrics *Metrics
	// Lake, if set, receives every decoded object's events before the
	// object commits. An object the lake cannot take is handed back
	// untouched, like one the source cannot give.
	Lake LakeWriter
	// Snapshots, if set, stores the security-group snapshots the
	// evaluator finds (rules.Findings.Snapshots) before their object
	// commits. An object whose snapshots cannot be stored is handed back
	// untouched, like one the lake cannot take.
	Snapshots SnapshotWriter
}

// SnapshotWriter stores the security-group snapshots of launches in the
// instance-data bucket (etl/instancedata.Snapshots). Writing one again must be
// harmless: an object handed back is evaluated and written again.
type SnapshotWriter interface {
	// WriteSnapshots stores snaps and reports how many it wrote (a
	// snapshot with nowhere to go is skipped).
	WriteSnapshots(ctx context.Context, snaps []rules.Snapshot) (int, error)
}

// Progress is the state of a running batch.
type Progress struct {
	Done, Total int
	Events      int64
}

// Pipeline runs batches. It is safe to call Run again after it returned,
// but not concurrently.
type Pipeline struct {
	cfg Config
	log *slog.Logger
}

// FailedObject is an object that could not be read in this run.
type FailedObject struct {
	Key         string
	Reason      string
	Quarantined bool
}

// Result summarises one batch. Every count is of what committed: an object
// counts as processed, and its violations as new or seen again, only once
// the transaction that records it has committed.
type Result struct {
	Holder      string // the name of the batch in the leases
	Listed      int    // log objects found in the window
	AlreadyDone int    // skipped because the ledger holds them
	Quarantined int    // skipped because their content failed too often before
	Rewritten   int    // done before, but listed with another ETag or size: read again
	Others      int    // claimed by another batch, or committed by one first
	Objects     int    // objects processed and committed in this run
	Events      int64
	// SkippedRecords counts single records that could not be decoded.
	SkippedRecords int64
	New, SeenAgain int // violations inserted / detected again
	Lifecycles     int // application lifecycle rows inserted
	Snapshots      int // security-group snapshots written
	// Failed are objects whose content could not be read as CloudTrail
	// logs; each failure is an attempt recorded in the ledger.
	Failed []FailedObject
	// Unread are objects the source could not give (or the rules failed
	// on, or the lake could not take); the ledger is untouched and the
	// next batch reads them.
	Unread []FailedObject
	// Gone counts objects listed but deleted before they could be read.
	Gone int
	// Abandoned counts objects claimed but not finished because the batch
	// stopped (interrupted, or an error); the next batch reads them.
	Abandoned   int
	Bytes       int64 // decompressed JSON bytes read
	ListCalls   int
	Duration    time.Duration
	Interrupted bool // the context was cancelled; the batch stopped early
}

// SourceError is returned by Run when the source kept failing and the
// batch stopped early.
type SourceError struct {
	Source   string // the source's String
	Failures int    // objects in a row that could not be read
	Last     error  // the last failure
}

func (e *SourceError) Error() string {
	return fmt.Sprintf("source %s is failing: %d objects in a row could not be read, the batch stopped (what was finished is committed; the rest is read by the next batch); last error: %v",
		e.Source, e.Failures, e.Last)
}

func (e *SourceError) Unwrap() error { return e.Last }

// EventsPerSecond is Events divided by Duration.
func (r *Result) EventsPerSecond() float64 {
	if r.Duration <= 0 {
		return 0
	}
	return float64(r.Events) / r.Duration.Seconds()
}

// New returns a pipeline.
func New(cfg Config) (*Pipeline, error) {
	if cfg.Lister == nil || cfg.Evaluator == nil || cfg.Ledger == nil {
		return nil, errors.New("pipeline: lister, evaluator and ledger are required")
	}
	cfg.Workers = cmp.Or(cfg.Workers, runtime.NumCPU())
	cfg.Fetchers = cmp.Or(cfg.Fetchers, 4*cfg.Workers)
	cfg.MaxObjectSize = cmp.Or(cfg.MaxObjectSize, DefaultMaxObjectSize)
	cfg.MaxAttempts = cmp.Or(cfg.MaxAttempts, DefaultMaxAttempts)
	cfg.GroupSize = cmp.Or(cfg.GroupSize, DefaultGroupSize)
	cfg.GroupViolations = cmp.Or(cfg.GroupViolations, DefaultGroupViolations)
	cfg.EvalEvents = cmp.Or(cfg.EvalEvents, DefaultEvalEvents)
	cfg.Lease = cmp.Or(cfg.Lease, DefaultLease)
	cfg.SourceFailureLimit = cmp.Or(cfg.SourceFailureLimit, DefaultSourceFailureLimit)
	cfg.StopTimeout = cmp.Or(cfg.StopTimeout, DefaultStopTimeout)
	if cfg.Workers < 1 || cfg.Fetchers < 1 || cfg.MaxObjectSize < 1 || cfg.MaxAttempts < 1 || cfg.GroupSize < 1 || cfg.GroupViolations < 1 || cfg.EvalEvents < 1 ||
		cfg.SourceFailureLimit < 1 {
		return nil, errors.New("pipeline: workers, fetchers, max object size, max attempts, group size, group violations, eval events and the source failure limit must be positive")
	}
	if cfg.Lease < time.Second || cfg.StopTimeout < 0 {
		return nil, errors.New("pipeline: the lease must be at least a second and the stop timeout not negative")
	}
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Pipeline{cfg: cfg, log: log}, nil
}

// failure is what went wrong with one object, which decides what the
// ledger is told.
type failure int

const (
	failNone        failure = iota
	failContent             // the bytes are not a readable CloudTrail document: an attempt
	failSource              // the source could not give the object: ledger untouched
	failRules               // the rules failed on it: ledger untouched
	failLake                // the lake could not store its events: ledger untouched
	failLookup              // a lookup its events need failed for now: ledger untouched
	failSnapshot            // its security-group snapshots could not be stored: ledger untouched
	failGone                // deleted since it was listed
	failInterrupted         // the batch stopped before the object was finished
)

// processed is what a worker hands to the committer for one object.
type processed struct {
	cand       Candidate
	done       ObjectDone
	violations []rules.Violation
	lifecycles []rules.Lifecycle
	snapshots  int // security-group snapshots written
	bytes      int64
	err        error   // the object failed as a whole
	kind       failure // what kind of failure err is
}

// fail marks pr failed with err of kind k.
func (pr *processed) fail(k failure, err error) {
	pr.kind, pr.err = k, err
}

// Run processes every new object whose key time is in [from, to). It
// returns when all objects are committed or failed, or, when ctx is
// cancelled, after the objects being worked on are committed (for at most
// StopTimeout). Objects are claimed in the ledger before they are read, so
// that batches running at the same time on one ledger split the work.
//
// The error is a *SourceError when the source kept failing; Result counts
// only what committed, whatever the error.
func (p *Pipeline) Run(ctx context.Context, from, to time.Time) (res *Result, err error) {
	defer func() { p.cfg.Metrics.observe(res, err) }()
	return p.run(ctx, from, to)
}

func (p *Pipeline) run(ctx context.Context, from, to time.Time) (*Result, error) {
	start := time.Now()
	res := &Result{Holder: cmp.Or(p.cfg.Holder, newHolder())}
	defer func() { res.Duration = time.Since(start) }()

	cands, stats, err := p.cfg.Lister.ListRange(ctx, from, to)
	res.ListCalls = stats.ListCalls
	if err != nil {
		if ctx.Err() != nil { // stopped before any work: an interruption
			res.Interrupted = true
			return res, nil
		}
		return res, fmt.Errorf("list %s: %w", p.cfg.Lister.Source, err)
	}
	res.Listed = len(cands)
	todo, err := p.filter(ctx, cands, res)
	if err != nil {
		if ctx.Err() != nil {
			res.Interrupted = true
			return res, nil
		}
		return res, err
	}
	p.log.Info("batch listed", logListed, res.Listed, logNew, len(todo), logAlreadyDone, res.AlreadyDone,
		logQuarantined, res.Quarantined, logRewritten, res.Rewritten, logListCalls, res.ListCalls, logHolder, res.Holder)
	if len(todo) == 0 {
		return res, nil
	}

	// Work started on an object is finished even when ctx is cancelled, so
	// that a stop never leaves half an object group behind; but for at most
	// StopTimeout.
	work, abandon := context.WithCancelCause(context.WithoutCancel(ctx))
	defer abandon(nil)
	stopTimer := context.AfterFunc(ctx, func() {
		time.AfterFunc(p.cfg.StopTimeout, func() {
			abandon(fmt.Errorf("the objects in work did not finish within the stop timeout (%s)", p.cfg.StopTimeout))
		})
	})
	defer stopTimer()

	b := &batch{p: p, res: res, holder: res.Holder, total: len(todo)}
	renewCtx, stopRenew := context.WithCancel(work)
	renewed := make(chan struct{})
	go func() {
		defer close(renewed)
		b.renew(renewCtx)
	}()
	defer func() {
		stopRenew()
		<-renewed
		// Leases left (objects claimed but not finished) go back at once,
		// not when they expire.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), releaseTimeout)
		defer cancel()
		if err := p.cfg.Ledger.LedgerRelease(rctx, res.Holder, nil); err != nil {
			p.log.Warn("could not give up the leases; they expire by themselves", logHolder, res.Holder, logErr, err)
		}
	}()

	feed := make(chan Candidate)
	// out holds a group's worth of processed objects, so that the
	// workers go on while the committer writes the previous group: a
	// processed object is its ledger entry and findings, the events are
	// released. Without it a worker waited for every commit.
	out := make(chan processed, max(p.cfg.Workers, p.cfg.GroupSize))
	g, gctx := errgroup.WithContext(work)
	// The feed stops when the batch is interrupted (ctx), fails (gctx) or
	// the source keeps failing (b.stop); then the fetches in flight are
	// given up too, as they would only wait for their retries to fail.
	feedCtx, stopFeed := context.WithCancel(gctx)
	defer stopFeed()
	stopAtInterrupt := context.AfterFunc(ctx, stopFeed)
	defer stopAtInterrupt()
	fetchCtx, stopFetch := context.WithCancel(gctx)
	defer stopFetch()
	b.stop = func() { stopFeed(); stopFetch() }
	g.Go(func() error {
		defer close(feed)
		return b.feed(feedCtx, work, todo, feed)
	})
	// Fetchers read objects ahead of the workers, so that a worker does not
	// wait for the network; each holds at most one object.
	fetched := make(chan fetchedObject)
	// A cancelled fetch still goes on to the committer, which hands its
	// object back; only the end of the whole batch (gctx) stops a fetcher.
	var fetchers errgroup.Group
	for range p.cfg.Fetchers {
		fetchers.Go(func() error {
			for c := range feed {
				f := p.fetch(fetchCtx, c)
				b.fetched(f)
				select {
				case fetched <- f:
				case <-gctx.Done():
					f.free()
					return gctx.Err()
				}
			}
			return nil
		})
	}
	g.Go(func() error {
		err := fetchers.Wait()
		close(fetched)
		return err
	})
	workers, wctx := errgroup.WithContext(gctx)
	for range p.cfg.Workers {
		workers.Go(func() error {
			w := &worker{p: p, inf: NewInflater(), dec: event.NewDecoder(nil, 0), out: out}
			defer w.inf.Close()
			defer w.dec.Release()
			defer w.pending.release()
			for f := range fetched {
				if err := w.handle(wctx, f); err != nil {
					return err
				}
			}
			return w.evaluate(wctx)
		})
	}
	g.Go(func() error {
		err := workers.Wait()
		close(out)
		return err
	})
	g.Go(func() error { return b.commit(gctx, out) })
	err = g.Wait() // the first error; later ones are its consequences
	if ctx.Err() != nil {
		res.Interrupted = true
	}
	b.mu.Lock()
	res.Abandoned = b.claimed - b.finished
	b.mu.Unlock()
	sort.Slice(res.Failed, func(i, j int) bool { return res.Failed[i].Key < res.Failed[j].Key })
	sort.Slice(res.Unread, func(i, j int) bool { return res.Unread[i].Key < res.Unread[j].Key })
	if cause := context.Cause(work); res.Interrupted && cause != nil && errors.Is(err, context.Canceled) {
		// The stop timeout ran out: an interruption, not a failure.
		p.log.Warn("objects abandoned at the stop", logObjects, res.Abandoned, logReason, cause)
		err = nil
	}
	if err != nil {
		return res, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.sourceErr != nil {
		return res, b.sourceErr
	}
	return res, nil
}

// newHolder names a batch in the leases: host:pid:random.
func newHolder() string {
	host, _ := os.Hostname()
	var b [4]byte
	_, _ = crand.Read(b[:])
	return fmt.Sprintf("%s:%d:%s", cmp.Or(host, "localhost"), os.Getpid(), hex.EncodeToString(b[:]))
}

// batch is the state of one Run shared by the feeder and the committer.
type batch struct {
	p      *Pipeline
	res    *Result
	holder string
	total  int

	claimed  int // objects claimed and kept (feeder)
	finished int // of those, objects committed, failed or handed back (committer)
	done     int // objects accounted for, for Progress

	stop      func()       // stops the feed and the fetches in flight when the source keeps failing
	sourceErr *SourceError // why stop was called; guarded by mu
	inARow    int          // objects in a row the source failed to give (mu) or the rules failed on (committer)
	mu        sync.Mutex   // guards claimed, done, sourceErr, inARow and res's counts
}

// feed claims the candidates chunk by chunk, just before the fetchers need
// them, and sends the claimed ones on, until they are all sent or fctx is
// done (the batch is interrupted, fails, or the source keeps failing).
// Claims run under work, which none of those cancel: a claim cancelled on
// the client could still commit on the server after the batch gave its
// leases back, and hold its objects until they expire.
func (b *batch) feed(fctx, work context.Context, todo []Candidate, feed chan<- Candidate) error {
	p := b.p
	chunk := max(p.cfg.Fetchers, p.cfg.GroupSize)
	// Batches that start together with the same objects would claim the
	// same chunks one after the other; each starts at a random chunk
	// instead, so that they meet less and split the work sooner.
	if chunks := (len(todo) + chunk - 1) / chunk; chunks > 1 {
		off := rand.IntN(chunks) * chunk
		todo = append(todo[off:len(todo):len(todo)], todo[:off]...)
	}
	for len(todo) > 0 && fctx.Err() == nil {
		n := min(chunk, len(todo))
		next := todo[:n]
		todo = todo[n:]
		mine, err := b.claim(work, next)
		if err != nil {
			return err
		}
		for _, c := range mine {
			select {
			case feed <- c:
			case <-fctx.Done():
				return nil
			}
		}
	}
	return nil
}

// claim claims cands and returns those this batch got and must still
// process: an object another batch finished between the listing and the
// claim is given back.
func (b *batch) claim(ctx context.Context, cands []Candidate) ([]Candidate, error) {
	p := b.p
	keys := make([]string, len(cands))
	for i, c := range cands {
		keys[i] = c.Object.Key
	}
	got, err := p.cfg.Ledger.LedgerClaim(ctx, b.holder, keys, p.cfg.Lease)
	if err != nil {
		return nil, fmt.Errorf("claim objects: %w", err)
	}
	if len(got) == 0 {
		b.others(len(cands))
		return nil, nil
	}
	// A batch that committed an object released its lease in the same
	// transaction: the ledger, read after the claim, shows it done.
	states, err := p.cfg.Ledger.LedgerStates(ctx, got)
	if err != nil {
		return nil, fmt.Errorf("claim objects: %w", err)
	}
	gotSet := make(map[string]bool, len(got))
	for _, k := range got {
		gotSet[k] = true
	}
	var mine []Candidate
	var giveBack []string
	for _, c := range cands {
		if !gotSet[c.Object.Key] {
			continue
		}
		st, ok := states[c.Object.Key]
		if d := p.decide(c, st, ok); d != decideProcess {
			giveBack = append(giveBack, c.Object.Key)
			continue
		}
		mine = append(mine, c)
	}
	if len(giveBack) > 0 {
		if err := p.cfg.Ledger.LedgerRelease(ctx, b.holder, giveBack); err != nil {
			return nil, fmt.Errorf("claim objects: %w", err)
		}
	}
	b.others(len(cands) - len(mine))
	b.mu.Lock()
	b.claimed += len(mine)
	b.mu.Unlock()
	return mine, nil
}

func (b *batch) others(n int) {
	if n == 0 {
		return
	}
	b.mu.Lock()
	b.res.Others += n
	b.mu.Unlock()
	b.progress(n)
}

// renew renews the batch's leases every Lease/3 until ctx is done.
func (b *batch) renew(ctx context.Context) {
	p := b.p
	t := time.NewTicker(p.cfg.Lease / 3)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if _, err := p.cfg.Ledger.LedgerRenew(ctx, b.holder, p.cfg.Lease); err != nil && ctx.Err() == nil {
			p.log.Warn("could not renew the leases", logHolder, b.holder, logErr, err)
		}
	}
}

// decision is what to do with a listed object given its ledger row.
type decision int

const (
	decideProcess decision = iota
	decideDone
	decideQuarantined
)

// decide says whether the listed object c is to be processed; st is its
// ledger row, if ok.
func (p *Pipeline) decide(c Candidate, st ObjectState, ok bool) decision {
	switch {
	case !ok || p.cfg.Reprocess || !st.SameVersion(c.Object):
		return decideProcess
	case st.Status == StatusDone:
		return decideDone
	case st.Status == StatusQuarantined:
		return decideQuarantined
	}
	return decideProcess
}

// filter drops the candidates the ledger holds as done or quarantined with
// the version listed. A done object listed with another ETag or size was
// rewritten after it was read: it is read again, and the change is logged.
func (p *Pipeline) filter(ctx context.Context, cands []Candidate, res *Result) ([]Candidate, error) {
	keys := make([]string, len(cands))
	for i, c := range cands {
		keys[i] = c.Object.Key
	}
	states, err := p.cfg.Ledger.LedgerStates(ctx, keys)
	if err != nil {
		return nil, fmt.Errorf("read ledger: %w", err)
	}
	todo := cands[:0:0]
	for _, c := range cands {
		st, ok := states[c.Object.Key]
		switch p.decide(c, st, ok) {
		case decideDone:
			res.AlreadyDone++
			continue
		case decideQuarantined:
			res.Quarantined++
			continue
		}
		if ok && st.Status == StatusDone && !st.SameVersion(c.Object) {
			res.Rewritten++
			p.log.Warn("object rewritten after it was processed; reading it again", logKey, c.Object.Key,
				logPreviousETag, st.ETag, logPreviousSize, st.Size, logETag, c.Object.ETag, logSize, c.Object.Size)
		}
		todo = append(todo, c)
	}
	return todo, nil
}

// worker reads and decodes objects, gathers them until they hold
// EvalEvents events or GroupSize objects, runs the rules over the gathered
// events in one go, and hands the objects on to the committer.
type worker struct {
	p       *Pipeline
	inf     *Inflater
	dec     *event.Decoder
	out     chan<- processed
	pending pendingObjects
}

// pendingObjects are decoded objects waiting for the rules.
type pendingObjects struct {
	objs    []processed
	results []*event.Result
	events  int
}

func (po *pendingObjects) release() {
	for _, r := range po.results {
		r.Release()
	}
	po.objs, po.results, po.events = po.objs[:0], po.results[:0], 0
}

func (w *worker) send(ctx context.Context, pr processed) error {
	select {
	case w.out <- pr:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// handle decodes one fetched object: a failed object goes on at once, a
// decoded one waits for the rules.
func (w *worker) handle(ctx context.Context, f fetchedObject) error {
	pr, res := w.p.read(w.inf, w.dec, f)
	f.free()
	if pr.err != nil {
		return w.send(ctx, pr)
	}
	w.pending.objs = append(w.pending.objs, pr)
	w.pending.results = append(w.pending.results, res)
	w.pending.events += res.Events
	if w.pending.events >= w.p.cfg.EvalEvents || len(w.pending.objs) >= w.p.cfg.GroupSize {
		return w.evaluate(ctx)
	}
	return nil
}

// evaluate runs the rules over the pending objects and sends them on with
// their violations. If the rules fail over several objects, each object is
// evaluated alone, so that one object the rules fail on does not hold back
// the others.
func (w *worker) evaluate(ctx context.Context) error {
	po := &w.pending
	if len(po.objs) == 0 {
		return nil
	}
	defer po.release()
	var batches []arrow.RecordBatch
	for _, r := range po.results {
		batches = append(batches, r.Batches...)
	}
	found, err := w.p.cfg.Evaluator.Evaluate(ctx, batches)
	var inc *rules.IncompleteError
	if errors.As(err, &inc) && ctx.Err() == nil {
		// The lookups of some objects failed for now: those are left for
		// a later run, the others go on with their violations.
		byObject := perObject(found)
		for i, pr := range po.objs {
			var err error
			if why := inc.Objects[pr.done.Key]; why != nil {
				err = &lookupError{why}
			}
			if err := w.finish(ctx, pr, po.results[i], byObject[pr.done.Key], err); err != nil {
				return err
			}
		}
		return nil
	}
	if err != nil && len(po.objs) > 1 && ctx.Err() == nil {
		w.p.log.Warn("rules failed over several objects; evaluating them one by one", logObjects, len(po.objs), logErr, err)
		for i := range po.objs {
			one, err := w.p.cfg.Evaluator.Evaluate(ctx, po.results[i].Batches)
			if err := w.finish(ctx, po.objs[i], po.results[i], one, err); err != nil {
				return err
			}
		}
		return nil
	}
	byObject := perObject(found)
	for i, pr := range po.objs {
		if err := w.finish(ctx, pr, po.results[i], byObject[pr.done.Key], err); err != nil {
			return err
		}
	}
	return nil
}

// perObject splits findings by the object they came from.
func perObject(f rules.Findings) map[string]rules.Findings {
	out := map[string]rules.Findings{}
	for _, v := range f.Violations {
		o := out[v.ObjectKey]
		o.Violations = append(o.Violations, v)
		out[v.ObjectKey] = o
	}
	for _, l := range f.Lifecycles {
		o := out[l.ObjectKey]
		o.Lifecycles = append(o.Lifecycles, l)
		out[l.ObjectKey] = o
	}
	for _, s := range f.Snapshots {
		o := out[s.ObjectKey]
		o.Snapshots = append(o.Snapshots, s)
		out[s.ObjectKey] = o
	}
	return out
}

// finish sends one evaluated object on: with its findings, or failed
// with the rules' error evalErr.
func (w *worker) finish(ctx context.Context, pr processed, res *event.Result, f rules.Findings, evalErr error) error {
	switch {
	case evalErr != nil && ctx.Err() != nil:
		pr.fail(failInterrupted, fmt.Errorf("evaluate rules: %w", context.Cause(ctx)))
	case errors.As(evalErr, new(*lookupError)):
		// Nor is a lookup that failed for now: the object waits for a
		// later run, which asks again.
		pr.fail(failLookup, fmt.Errorf("look up facts for the rules: %w", errors.Unwrap(evalErr)))
	case evalErr != nil:
		// A rule failing is not the object's fault: no attempt is counted.
		pr.fail(failRules, fmt.Errorf("evaluate rules: %w", evalErr))
	default:
		pr.violations, pr.lifecycles = f.Violations, f.Lifecycles
		// A correlation rule's matches are counts, not the object's
		// violations: the store decides which windows they complete.
		pr.done.Violations = len(f.Violations)
		for _, v := range f.Violations {
			if v.Correlation != nil {
				pr.done.Violations--
			}
		}
		if err := w.snapshots(ctx, &pr, f.Snapshots); err != nil {
			pr.fail(err.kind, err.err)
			break
		}
		if err := w.lake(ctx, pr, res); err != nil {
			pr.fail(err.kind, err.err)
			break
		}
		pr.done.FinishedAt = time.Now()
	}
	return w.send(ctx, pr)
}

// lookupError is why one object's evaluation is incomplete: a lookup its
// events need failed for now (rules.IncompleteError).
type lookupError struct{ err error }

func (e *lookupError) Error() string { return e.err.Error() }
func (e *lookupError) Unwrap() error { return e.err }

// outputError is why an object's outputs (its events for the lake, its
// security-group snapshots) could not be stored.
type outputError struct {
	kind failure
	err  error
}

// snapshots writes one evaluated object's security-group snapshots, if
// there is a writer, before the object goes to the committer.
func (w *worker) snapshots(ctx context.Context, pr *processed, snaps []rules.Snapshot) *outputError {
	if w.p.cfg.Snapshots == nil || len(snaps) == 0 {
		return nil
	}
	n, err := w.p.cfg.Snapshots.WriteSnapshots(ctx, snaps)
	switch {
	case err == nil:
		pr.snapshots = n
		return nil
	case ctx.Err() != nil:
		return &outputError{failInterrupted, fmt.Errorf("write the security-group snapshots: %w (%w)", err, context.Cause(ctx))}
	default:
		return &outputError{failSnapshot, fmt.Errorf("write the security-group snapshots: %w", err)}
	}
}

// lake writes one evaluated object's events into the lake, if there is
// one, before the object goes to the committer.
func (w *worker) lake(ctx context.Context, pr processed, res *event.Result) *outputError {
	if w.p.cfg.Lake == nil || res == nil {
		return nil
	}
	err := w.p.cfg.Lake.LakeWrite(ctx, pr.cand, res.Batches)
	switch {
	case err == nil:
		return nil
	case ctx.Err() != nil:
		return &outputError{failInterrupted, fmt.Errorf("write the events to the lake: %w (%w)", err, context.Cause(ctx))}
	default:
		return &outputError{failLake, fmt.Errorf("write the events to the lake: %w", err)}
	}
}

// fetchedObject is the stored bytes of one object, read ahead of the
// workers, or why they could not be read.
type fetchedObject struct {
	cand    Candidate
	started time.Time
	body    *bytes.Buffer
	err     error
	kind    failure
}

var fetchBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// free returns the object's buffer to the pool.
func (f *fetchedObject) free() {
	if f.body != nil {
		f.body.Reset()
		fetchBuffers.Put(f.body)
		f.body = nil
	}
}

// fetch reads one object's stored bytes. An object larger than
// MaxObjectSize is a content failure; any error of the source is a source
// failure, which leaves the ledger untouched.
func (p *Pipeline) fetch(ctx context.Context, c Candidate) fetchedObject {
	f := fetchedObject{cand: c, started: time.Now()}
	if c.Object.Size > p.cfg.MaxObjectSize {
		f.kind, f.err = failContent, fmt.Errorf("object is %d bytes, larger than the maximum %d (--max-object-size)", c.Object.Size, p.cfg.MaxObjectSize)
		return f
	}
	sourceErr := func(err error) {
		switch {
		case ctx.Err() != nil:
			f.kind, f.err = failInterrupted, fmt.Errorf("%w (%w)", err, context.Cause(ctx))
		case errors.Is(err, os.ErrNotExist):
			f.kind, f.err = failGone, err
		default:
			f.kind, f.err = failSource, err
		}
	}
	r, err := p.cfg.Lister.Source.Open(ctx, c.Object.Key)
	if err != nil {
		sourceErr(fmt.Errorf("open: %w", err))
		return f
	}
	defer r.Close()
	f.body = fetchBuffers.Get().(*bytes.Buffer)
	f.body.Grow(int(min(c.Object.Size, p.cfg.MaxObjectSize)) + bytes.MinRead)
	n, err := f.body.ReadFrom(io.LimitReader(r, p.cfg.MaxObjectSize+1))
	switch {
	case err != nil:
		sourceErr(fmt.Errorf("read: %w", err))
	case n > p.cfg.MaxObjectSize:
		f.kind, f.err = failContent, fmt.Errorf("object is more than %d bytes, the maximum (--max-object-size): %w", p.cfg.MaxObjectSize, ErrTooLarge)
	case n != c.Object.Size:
		// Cut short, or rewritten since the listing: not the version
		// listed, so nothing is recorded about it.
		sourceErr(fmt.Errorf("read %d bytes, but the listing gave %d: the object changed or the read was cut short", n, c.Object.Size))
	}
	if f.err != nil {
		f.free()
	}
	return f
}

// read inflates and decodes one fetched object. On success the caller
// releases the result.
func (p *Pipeline) read(inf *Inflater, dec *event.Decoder, f fetchedObject) (processed, *event.Result) {
	c := f.cand
	pr := processed{cand: c}
	pr.done = ObjectDone{Key: c.Object.Key, ETag: c.Object.ETag, Size: c.Object.Size, StartedAt: f.started, Reprocess: p.cfg.Reprocess}
	if f.err != nil {
		pr.fail(f.kind, f.err)
		return pr, nil
	}
	limit := p.cfg.MaxObjectSize * decompressedFactor
	body, err := inf.InflateBytes(f.body.Bytes(), limit)
	if err != nil {
		if errors.Is(err, ErrTooLarge) {
			err = fmt.Errorf("%w (%d times --max-object-size)", err, decompressedFactor)
		}
		pr.fail(failContent, err)
		return pr, nil
	}
	pr.bytes = int64(len(body))
	dres, err := dec.Decode(bytes.NewReader(body), event.Origin{Key: c.Object.Key, Account: c.Key.Account, Region: c.Key.Region})
	if err != nil {
		pr.fail(failContent, fmt.Errorf("decode: %w", err))
		return pr, nil
	}
	pr.done.Events = dres.Events
	pr.done.Skipped = dres.Skipped
	for _, e := range dres.Errors {
		pr.done.SkipReasons = append(pr.done.SkipReasons, fmt.Sprintf("record %d: %v", e.Index, e.Err))
	}
	return pr, dres
}

// commit collects processed objects into groups and writes each group in
// one transaction; objects whose content failed are recorded one by one,
// objects the source could not give are handed back untouched. When the
// source fails for SourceFailureLimit objects in a row, it stops the feed.
func (b *batch) commit(ctx context.Context, in <-chan processed) error {
	p := b.p
	res := b.res
	var g group
	flush := func(last bool) error {
		if len(g.objs) == 0 {
			return nil
		}
		gs := []group{g}
		if last && len(g.found.Violations) >= max(p.cfg.GroupViolations/8, 1) {
			gs = g.split()
		}
		errs := make([]error, len(gs))
		results := make([]GroupResult, len(gs))
		var wg sync.WaitGroup
		for i := range gs {
			wg.Go(func() {
				results[i], errs[i] = p.cfg.Ledger.ViolationCommitGroup(ctx, b.holder, gs[i].objs, gs[i].found)
			})
		}
		wg.Wait()
		var err error
		for i, x := range gs {
			if errs[i] != nil {
				err = cmp.Or(err, fmt.Errorf("commit %d objects: %w", len(x.objs), errs[i]))
				continue
			}
			b.committed(x, results[i])
		}
		g = group{objs: g.objs[:0], found: rules.Findings{Violations: g.found.Violations[:0], Lifecycles: g.found.Lifecycles[:0]}}
		return err
	}
	for pr := range in {
		switch pr.kind {
		case failNone:
		case failContent:
			if err := b.fail(ctx, pr); err != nil {
				return err
			}
			continue
		default:
			if err := b.unread(ctx, pr); err != nil {
				return err
			}
			continue
		}
		g.objs = append(g.objs, pr.done)
		g.found.Violations = append(g.found.Violations, pr.violations...)
		g.found.Lifecycles = append(g.found.Lifecycles, pr.lifecycles...)
		res.SkippedRecords += int64(pr.done.Skipped)
		res.Bytes += pr.bytes
		res.Snapshots += pr.snapshots
		if pr.done.Skipped > 0 {
			p.log.Warn("records skipped", logKey, pr.done.Key, logSkipped, pr.done.Skipped, logFirstReason, pr.done.SkipReasons[0])
		}
		if len(g.objs) >= p.cfg.GroupSize || len(g.found.Violations) >= p.cfg.GroupViolations {
			if err := flush(false); err != nil {
				return err
			}
		}
	}
	return flush(true)
}

// committed counts a group the ledger committed.
func (b *batch) committed(g group, gr GroupResult) {
	res := b.res
	var events int64
	for _, o := range g.objs {
		events += int64(o.Events)
	}
	b.mu.Lock()
	res.Objects += gr.Objects
	res.New += gr.New
	res.SeenAgain += gr.SeenAgain
	res.Lifecycles += gr.Lifecycles
	res.Events += events
	res.Others += len(g.objs) - gr.Objects // committed by another batch first
	b.mu.Unlock()
	b.finished += len(g.objs)
	b.p.log.Debug("group committed", logObjects, len(g.objs), logViolations, len(g.found.Violations), logNew, gr.New)
	b.progress(len(g.objs))
}

// group is the objects one transaction commits, with their findings.
type group struct {
	objs  []ObjectDone
	found rules.Findings
}

// split divides g into two groups of objects, each object with its
// findings in one, for the batch's last commit when it holds at least an
// eighth of GroupViolations violations: nothing else overlaps it,
// so one transaction would leave the other CPUs idle while the database
// writes. Each group commits exactly once on its own; the store lets
// concurrent commits of different objects write the same violation or
// correlation window, as concurrent processes do. A group of one object
// is not split.
func (g group) split() []group {
	var keys []string
	seen := map[string]bool{}
	for _, o := range g.objs {
		if !seen[o.Key] {
			seen[o.Key] = true
			keys = append(keys, o.Key)
		}
	}
	if len(keys) < 2 {
		return []group{g}
	}
	second := map[string]bool{}
	for _, k := range keys[len(keys)/2:] {
		second[k] = true
	}
	half := func(key string) int {
		if second[key] {
			return 1
		}
		return 0
	}
	out := make([]group, 2)
	for _, o := range g.objs {
		out[half(o.Key)].objs = append(out[half(o.Key)].objs, o)
	}
	for _, v := range g.found.Violations {
		f := &out[half(v.ObjectKey)].found
		f.Violations = append(f.Violations, v)
	}
	for _, l := range g.found.Lifecycles {
		f := &out[half(l.ObjectKey)].found
		f.Lifecycles = append(f.Lifecycles, l)
	}
	return out
}

// fail records a content failure in the ledger.
func (b *batch) fail(ctx context.Context, pr processed) error {
	p := b.p
	f := ObjectFailed{Key: pr.cand.Object.Key, ETag: pr.cand.Object.ETag, Size: pr.cand.Object.Size,
		Reason: pr.err.Error(), StartedAt: pr.done.StartedAt, FinishedAt: time.Now()}
	q, err := p.cfg.Ledger.LedgerMarkFailed(ctx, b.holder, f, p.cfg.MaxAttempts)
	if err != nil {
		return fmt.Errorf("record failed object %q: %w", f.Key, err)
	}
	b.res.Failed = append(b.res.Failed, FailedObject{Key: f.Key, Reason: f.Reason, Quarantined: q})
	p.log.Error("object failed", logKey, f.Key, logReason, f.Reason, logQuarantined, q)
	b.finished++
	b.progress(1)
	return nil
}

// unread hands back an object the batch could not finish for a reason
// that is not its content: the ledger keeps no trace of the attempt, and
// the next batch reads it.
func (b *batch) unread(ctx context.Context, pr processed) error {
	p := b.p
	key := pr.cand.Object.Key
	if err := p.cfg.Ledger.LedgerRelease(ctx, b.holder, []string{key}); err != nil {
		return fmt.Errorf("give back object %q: %w", key, err)
	}
	if pr.kind == failInterrupted {
		return nil // counted as abandoned
	}
	b.finished++
	b.progress(1)
	if pr.kind == failGone {
		b.res.Gone++
		p.log.Warn("object deleted since it was listed", logKey, key, logReason, pr.err)
		return nil
	}
	b.res.Unread = append(b.res.Unread, FailedObject{Key: key, Reason: pr.err.Error()})
	if len(b.res.Unread) <= maxUnreadLogged {
		p.log.Warn("object not read; left for the next batch", logKey, key, logReason, pr.err)
	}
	if pr.kind == failRules || pr.kind == failLake || pr.kind == failSnapshot {
		b.mu.Lock()
		b.inARow++
		b.checkInARow(pr.err)
		b.mu.Unlock()
	}
	return nil
}

// fetched counts the source's failures in a row, in the order the fetches
// end: a fetch that got the object's bytes ends a run of failures.
func (b *batch) fetched(f fetchedObject) {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch f.kind {
	case failSource:
		b.inARow++
		b.checkInARow(f.err)
	case failNone, failContent:
		b.inARow = 0
	}
}

// checkInARow stops the feed when the failures in a row reach the limit;
// b.mu is held.
func (b *batch) checkInARow(last error) {
	p := b.p
	if b.inARow < p.cfg.SourceFailureLimit || b.sourceErr != nil {
		return
	}
	b.sourceErr = &SourceError{Source: p.cfg.Lister.Source.String(), Failures: b.inARow, Last: last}
	p.log.Error("source keeps failing; stopping the batch", logSource, b.sourceErr.Source, logFailed, b.inARow, logErr, last)
	b.stop()
}

func (b *batch) progress(n int) {
	b.mu.Lock()
	b.done += n
	pr := Progress{Done: b.done, Total: b.total, Events: b.res.Events}
	b.mu.Unlock()
	if b.p.cfg.Progress != nil {
		b.p.cfg.Progress(pr)
	}
}
