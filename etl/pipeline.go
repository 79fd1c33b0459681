package etl

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
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
	Evaluate(ctx context.Context, batches []arrow.RecordBatch) ([]rules.Violation, error)
}

// Defaults of Config.
const (
	DefaultMaxObjectSize = 256 << 20
	DefaultMaxAttempts   = 3
	DefaultGroupSize     = 64
	DefaultEvalEvents    = 50_000
	// decompressedFactor bounds the decompressed size of an object to this
	// multiple of MaxObjectSize (a guard against gzip bombs).
	decompressedFactor = 32
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
	MaxAttempts   int   // failed attempts before an object is quarantined; default 3
	GroupSize     int   // objects committed per transaction; default 64
	// EvalEvents is how many events a worker gathers, from one or more
	// objects, before it runs the rules over them in one go; default
	// 50,000. Memory grows with Workers × EvalEvents.
	EvalEvents int
	Reprocess  bool // process objects the ledger already holds as done or quarantined

	// Progress, if set, is called after every committed group and failed
	// object with the number of objects finished so far and the total.
	Progress func(p Progress)
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

// Result summarises one batch.
type Result struct {
	Listed         int // log objects found in the window
	AlreadyDone    int // skipped because the ledger holds them
	Quarantined    int // skipped because they failed too often before
	Objects        int // objects processed and committed in this run
	Events         int64
	SkippedRecords int64 // single records that could not be decoded
	New, SeenAgain int   // violations inserted / detected again
	Failed         []FailedObject
	Bytes          int64 // decompressed JSON bytes read
	ListCalls      int
	Duration       time.Duration
	Interrupted    bool // the context was cancelled; the batch stopped early
}

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
	cfg.EvalEvents = cmp.Or(cfg.EvalEvents, DefaultEvalEvents)
	if cfg.Workers < 1 || cfg.Fetchers < 1 || cfg.MaxObjectSize < 1 || cfg.MaxAttempts < 1 || cfg.GroupSize < 1 || cfg.EvalEvents < 1 {
		return nil, errors.New("pipeline: workers, fetchers, max object size, max attempts, group size and eval events must be positive")
	}
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Pipeline{cfg: cfg, log: log}, nil
}

// processed is what a worker hands to the committer for one object.
type processed struct {
	cand       Candidate
	done       ObjectDone
	violations []rules.Violation
	bytes      int64
	err        error // the object failed as a whole
}

// Run processes every new object whose key time is in [from, to). It
// returns when all objects are committed or failed, or, when ctx is
// cancelled, after the objects being worked on are committed.
func (p *Pipeline) Run(ctx context.Context, from, to time.Time) (*Result, error) {
	start := time.Now()
	res := &Result{}
	defer func() { res.Duration = time.Since(start) }()

	cands, stats, err := p.cfg.Lister.ListRange(ctx, from, to)
	res.ListCalls = stats.ListCalls
	if err != nil {
		return res, fmt.Errorf("list %s: %w", p.cfg.Lister.Source, err)
	}
	res.Listed = len(cands)
	todo, err := p.filter(ctx, cands, res)
	if err != nil {
		return res, err
	}
	p.log.Info("batch listed", logListed, res.Listed, logNew, len(todo), logAlreadyDone, res.AlreadyDone,
		logQuarantined, res.Quarantined, logListCalls, res.ListCalls)
	if len(todo) == 0 {
		return res, nil
	}

	// Work started on an object is finished even when ctx is cancelled, so
	// that a stop never leaves half an object group behind.
	work := context.WithoutCancel(ctx)
	feed := make(chan Candidate)
	out := make(chan processed, p.cfg.Workers)
	g, gctx := errgroup.WithContext(work)
	g.Go(func() error {
		defer close(feed)
		for _, c := range todo {
			select {
			case feed <- c:
			case <-ctx.Done():
				return nil
			case <-gctx.Done():
				return nil
			}
		}
		return nil
	})
	// Fetchers read objects ahead of the workers, so that a worker does not
	// wait for the network; each holds at most one object.
	fetched := make(chan fetchedObject)
	fetchers, fctx := errgroup.WithContext(gctx)
	for range p.cfg.Fetchers {
		fetchers.Go(func() error {
			for c := range feed {
				f := p.fetch(fctx, c)
				select {
				case fetched <- f:
				case <-fctx.Done():
					f.free()
					return fctx.Err()
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
	g.Go(func() error { return p.commit(gctx, out, len(todo), res) })
	err = g.Wait()
	if ctx.Err() != nil {
		res.Interrupted = true
	}
	sort.Slice(res.Failed, func(i, j int) bool { return res.Failed[i].Key < res.Failed[j].Key })
	return res, err
}

// filter drops the candidates the ledger says are done or quarantined.
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
		switch {
		case !ok || p.cfg.Reprocess:
		case st.Status == StatusDone:
			res.AlreadyDone++
			continue
		case st.Status == StatusQuarantined:
			res.Quarantined++
			continue
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
// their violations. If the rules fail, every pending object fails.
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
	vs, err := w.p.cfg.Evaluator.Evaluate(ctx, batches)
	byObject := make(map[string][]rules.Violation, len(po.objs))
	for _, v := range vs {
		byObject[v.ObjectKey] = append(byObject[v.ObjectKey], v)
	}
	now := time.Now()
	for _, pr := range po.objs {
		if err != nil {
			// A rule failing is not the object's fault, but the object is
			// retried like a bad one, with the rule error as its reason.
			pr.err = fmt.Errorf("evaluate rules: %w", err)
		} else {
			pr.violations = byObject[pr.done.Key]
			pr.done.Violations = len(pr.violations)
			pr.done.FinishedAt = now
		}
		if err := w.send(ctx, pr); err != nil {
			return err
		}
	}
	return nil
}

// fetchedObject is the stored bytes of one object, read ahead of the
// workers, or why they could not be read.
type fetchedObject struct {
	cand    Candidate
	started time.Time
	body    *bytes.Buffer
	err     error
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

// fetch reads one object's stored bytes.
func (p *Pipeline) fetch(ctx context.Context, c Candidate) fetchedObject {
	f := fetchedObject{cand: c, started: time.Now()}
	if c.Object.Size > p.cfg.MaxObjectSize {
		f.err = fmt.Errorf("object is %d bytes, larger than the maximum %d (--max-object-size)", c.Object.Size, p.cfg.MaxObjectSize)
		return f
	}
	r, err := p.cfg.Lister.Source.Open(ctx, c.Object.Key)
	if err != nil {
		f.err = fmt.Errorf("open: %w", err)
		return f
	}
	defer r.Close()
	f.body = fetchBuffers.Get().(*bytes.Buffer)
	f.body.Grow(int(min(c.Object.Size, p.cfg.MaxObjectSize)) + bytes.MinRead)
	n, err := f.body.ReadFrom(io.LimitReader(r, p.cfg.MaxObjectSize+1))
	switch {
	case err != nil:
		f.err = fmt.Errorf("read: %w", err)
	case n > p.cfg.MaxObjectSize:
		f.err = fmt.Errorf("object is more than %d bytes, the maximum (--max-object-size): %w", p.cfg.MaxObjectSize, ErrTooLarge)
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
		pr.err = f.err
		return pr, nil
	}
	limit := p.cfg.MaxObjectSize * decompressedFactor
	body, err := inf.InflateBytes(f.body.Bytes(), limit)
	if err != nil {
		if errors.Is(err, ErrTooLarge) {
			err = fmt.Errorf("%w (%d times --max-object-size)", err, decompressedFactor)
		}
		pr.err = err
		return pr, nil
	}
	pr.bytes = int64(len(body))
	dres, err := dec.Decode(bytes.NewReader(body), event.Origin{Key: c.Object.Key, Account: c.Key.Account, Region: c.Key.Region})
	if err != nil {
		pr.err = fmt.Errorf("decode: %w", err)
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
// one transaction; failed objects are recorded one by one.
func (p *Pipeline) commit(ctx context.Context, in <-chan processed, total int, res *Result) error {
	var (
		objs     []ObjectDone
		vs       []rules.Violation
		events   int64
		finished int
	)
	flush := func() error {
		if len(objs) == 0 {
			return nil
		}
		// A group is written even when the batch is being stopped.
		wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		gr, err := p.cfg.Ledger.ViolationCommitGroup(wctx, objs, vs)
		if err != nil {
			return fmt.Errorf("commit %d objects: %w", len(objs), err)
		}
		res.Objects += len(objs)
		res.New += gr.New
		res.SeenAgain += gr.SeenAgain
		res.Events += events
		finished += len(objs)
		p.log.Debug("group committed", logObjects, len(objs), logViolations, len(vs), logNew, gr.New)
		objs, vs, events = objs[:0], vs[:0], 0
		p.progress(finished, total, res)
		return nil
	}
	for pr := range in {
		if pr.err != nil {
			if err := p.fail(ctx, pr, res); err != nil {
				return err
			}
			finished++
			p.progress(finished, total, res)
			continue
		}
		objs = append(objs, pr.done)
		vs = append(vs, pr.violations...)
		events += int64(pr.done.Events)
		res.SkippedRecords += int64(pr.done.Skipped)
		res.Bytes += pr.bytes
		if pr.done.Skipped > 0 {
			p.log.Warn("records skipped", logKey, pr.done.Key, logSkipped, pr.done.Skipped, logFirstReason, pr.done.SkipReasons[0])
		}
		if len(objs) >= p.cfg.GroupSize {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	return flush()
}

func (p *Pipeline) fail(ctx context.Context, pr processed, res *Result) error {
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	f := ObjectFailed{Key: pr.cand.Object.Key, ETag: pr.cand.Object.ETag, Size: pr.cand.Object.Size,
		Reason: pr.err.Error(), StartedAt: pr.done.StartedAt, FinishedAt: time.Now()}
	q, err := p.cfg.Ledger.LedgerMarkFailed(wctx, f, p.cfg.MaxAttempts)
	if err != nil {
		return fmt.Errorf("record failed object %q: %w", f.Key, err)
	}
	res.Failed = append(res.Failed, FailedObject{Key: f.Key, Reason: f.Reason, Quarantined: q})
	p.log.Error("object failed", logKey, f.Key, logReason, f.Reason, logQuarantined, q)
	return nil
}

func (p *Pipeline) progress(done, total int, res *Result) {
	if p.cfg.Progress != nil {
		p.cfg.Progress(Progress{Done: done, Total: total, Events: res.Events})
	}
}
