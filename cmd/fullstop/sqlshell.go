package main

// fullstop sql: an interactive SQL shell over the events lake, with line
// editing, history and completion (github.com/peterh/liner) on a terminal,
// and a plain statement runner when stdin is a file or a pipe.

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/peterh/liner"
	"github.com/urfave/cli/v2"

	"github.com/fullstop-audit/fullstop/rules/duckdb/audit"
)

const (
	sqlPrompt         = "fullstop> "
	sqlContinuePrompt = "     ...> "
)

// shellFormats are the formats of fullstop sql's --output and .output:
// those of fullstop query but parquet, which needs a file.
var shellFormats = []string{"table", "csv", "json", "jsonl"}

// sqlCommand is fullstop sql, the interactive SQL shell over the lake.
func sqlCommand(a *app) *cli.Command {
	return &cli.Command{
		Name:  "sql",
		Usage: "an interactive SQL shell over the events lake (view events) and the violations and ledger of PostgreSQL",
		Description: "The SQL is DuckDB's, over the same views as fullstop query: events, and violations and ledger\n" +
			"(loaded from PostgreSQL, DATABASE_URL, when a statement names them). A statement ends with ';' at\n" +
			"the end of a line. Commands: .help, .tables, .schema VIEW, .output FORMAT, .timer on|off, .quit.\n" +
			"On a terminal: line editing, Tab completion of commands, views, columns and keywords, and a history\n" +
			"file; Ctrl-C clears the statement being typed or cancels the running one, Ctrl-D quits.\n" +
			"With stdin a file or a pipe it runs the statements in order, without prompts, and exits 1 if any failed:\n" +
			"  fullstop sql --lake DIR < script.sql\n" +
			"Exit codes: 0 done (on a terminal, whatever the statements did); 1 a statement of a script failed,\n" +
			"or the lake could not be opened; 2 a usage error; 3 interrupted.",
		Flags: append(auditFlags(),
			&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Value: "table", EnvVars: []string{"FULLSTOP_SQL_OUTPUT"}, Usage: "the output format to start with: " + strings.Join(shellFormats, ", ") + " (.output changes it)"},
			&cli.IntFlag{Name: "max-rows", Value: 1000, EnvVars: []string{"FULLSTOP_SQL_MAX_ROWS"}, Usage: "the most rows the table format shows (0: all); the other formats write every row"},
			&cli.StringFlag{Name: "history", EnvVars: []string{"FULLSTOP_SQL_HISTORY"}, Usage: "the history file of the shell on a terminal (default: $XDG_STATE_HOME/fullstop/sql_history, else ~/.local/state/fullstop/sql_history)"},
			&cli.BoolFlag{Name: "no-history", EnvVars: []string{"FULLSTOP_SQL_NO_HISTORY"}, Usage: "neither read nor write a history file"},
		),
		Action: func(c *cli.Context) error { return runSQLShell(c, a, os.Stdin, os.Stdout, os.Stderr) },
	}
}

func runSQLShell(c *cli.Context, a *app, stdin, stdout *os.File, stderr io.Writer) error {
	if c.Args().Present() {
		return usagef("fullstop sql takes no arguments: type the statements, or pipe them in (fullstop sql --lake DIR < script.sql); for one statement see fullstop query")
	}
	format := c.String("output")
	if !slices.Contains(shellFormats, format) {
		return usagef("--output (-o): %q is not one of %s", format, strings.Join(shellFormats, ", "))
	}
	if c.Int("max-rows") < 0 {
		return usagef("--max-rows must be 0 (all) or more, not %d", c.Int("max-rows"))
	}
	// The shell's context ends on SIGTERM (runMain cancels c.Context);
	// SIGINT is the shell's own: see watchInterrupts.
	ctx, cancel := context.WithCancel(c.Context)
	defer cancel()
	s, err := openAudit(c, a.log)
	if err != nil {
		return err
	}
	defer s.Close()

	interactive := stdinIsTerminal(stdin)
	sh := &shell{
		engine:      s.engine,
		out:         stdout,
		errw:        stderr,
		format:      format,
		maxRows:     c.Int("max-rows"),
		timer:       true,
		pgTables:    s.tables != nil,
		interactive: interactive,
		abort:       make(chan struct{}, 1),
		stop:        cancel,
	}
	sh.refreshViews(ctx)
	fmt.Fprintln(stderr, sh.banner(s.lake, s.files))
	if note := s.emptyNote(); note != "" {
		fmt.Fprintln(stderr, "note:", note)
	}
	defer watchInterrupts(sh)()

	var src lineSource
	if interactive && liner.TerminalSupported() && isTerminal(stdout) {
		histPath := ""
		if !c.Bool("no-history") {
			if histPath, err = sqlHistoryPath(c.String("history"), os.Getenv, os.UserHomeDir); err != nil {
				fmt.Fprintf(stderr, "history: %v\n", err) // and go on without
			}
		}
		ls := newLinerSource(sh, histPath)
		defer ls.close()
		sh.completes = true
		src = ls
	} else {
		src = newPlainSource(sh, stdin)
	}
	err = sh.loop(ctx, src)
	if err == nil && ctx.Err() != nil {
		err = errShellInterrupted{}
	}
	if err != nil {
		return err
	}
	if !interactive && sh.failed > 0 {
		return fmt.Errorf("%d of the %d statements and commands failed", sh.failed, sh.ran)
	}
	return nil
}

// stdinIsTerminal reports whether f, the standard input, is a terminal
// (not /dev/null, which is a character device too).
func stdinIsTerminal(f *os.File) bool {
	if f != os.Stdin {
		return false
	}
	_, err := liner.TerminalMode() // fails when stdin is not a terminal
	return err == nil
}

// watchInterrupts makes SIGINT (Ctrl-C while a statement runs) the
// shell's: it cancels the running statement instead of the whole command.
// It takes SIGINT from runMain's handler, which would end the process at
// the second one. It returns the function that stops watching.
func watchInterrupts(sh *shell) func() {
	sigs := make(chan os.Signal, 1)
	signal.Ignore(os.Interrupt) // undoes every earlier signal.Notify of SIGINT
	signal.Notify(sigs, os.Interrupt)
	done := make(chan struct{})
	go func() {
		for {
			select {
			case <-sigs:
				sh.interrupt()
			case <-done:
				return
			}
		}
	}()
	return func() {
		signal.Stop(sigs)
		close(done)
	}
}

// shell is one session of fullstop sql.
type shell struct {
	engine      *audit.Engine
	out, errw   io.Writer
	format      string
	maxRows     int
	timer       bool
	pgTables    bool // DATABASE_URL is set: violations and ledger can be loaded
	interactive bool
	completes   bool                      // Tab completion is on: keep views up to date
	views       map[string][]audit.Column // for completion, .tables and .schema

	mu      sync.Mutex
	running context.CancelFunc // cancels the running statement
	abort   chan struct{}      // Ctrl-C at a prompt without line editing
	stop    context.CancelFunc // ends the shell

	ran, failed int
	line        int // the number of the last line read
}

func (sh *shell) banner(lake string, files int) string {
	tables := "violations and ledger from PostgreSQL"
	if !sh.pgTables {
		tables = "no violations or ledger (set DATABASE_URL)"
	}
	return fmt.Sprintf("fullstop sql: lake %s, %s; %s; type .help for the commands", lake, countOf(int64(files), "file"), tables)
}

// interrupt handles SIGINT: it cancels the running statement; in a script
// it also ends the shell.
func (sh *shell) interrupt() {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if sh.running != nil {
		sh.running()
	}
	switch {
	case !sh.interactive:
		sh.stop()
	case sh.running == nil:
		select {
		case sh.abort <- struct{}{}:
		default:
		}
	}
}

// errShellInterrupted is the end of a script by Ctrl-C or SIGTERM: exit
// code 3, as errInterrupted, without its words about batches.
type errShellInterrupted struct{}

func (errShellInterrupted) Error() string        { return "interrupted" }
func (errShellInterrupted) Is(target error) bool { return target == errInterrupted }

// errAbort is Ctrl-C at a prompt: the statement being typed is dropped.
var errAbort = errors.New("input aborted")

// lineSource reads the lines of the shell.
type lineSource interface {
	// read returns the next line without its end, io.EOF at the end, or
	// errAbort.
	read(ctx context.Context, prompt string) (string, error)
	// addHistory records a statement or a command.
	addHistory(entry string)
}

// loop reads statements and commands and runs them, until the end of the
// input, .quit or the end of ctx.
func (sh *shell) loop(ctx context.Context, src lineSource) error {
	var buf []string
	startLine := 0
	for ctx.Err() == nil {
		prompt := sqlPrompt
		if len(buf) > 0 {
			prompt = sqlContinuePrompt
		}
		line, err := src.read(ctx, prompt)
		switch {
		case errors.Is(err, errAbort):
			buf = nil
			continue
		case errors.Is(err, io.EOF):
			// A script's last statement may lack its ';'. On a terminal,
			// Ctrl-D leaves what was being typed.
			if len(buf) > 0 && !sh.interactive {
				sh.runText(ctx, strings.Join(buf, "\n"), startLine)
			}
			if sh.interactive {
				fmt.Fprintln(sh.out) // after the prompt
			}
			return nil
		case err != nil:
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		sh.line++
		if len(buf) == 0 {
			t := strings.TrimSpace(line)
			if t == "" {
				continue
			}
			if strings.HasPrefix(t, ".") {
				src.addHistory(t)
				if quit := sh.command(ctx, t); quit {
					return nil
				}
				continue
			}
			startLine = sh.line
		}
		buf = append(buf, line)
		text := strings.Join(buf, "\n")
		if !statementComplete(text) {
			continue
		}
		buf = nil
		if h, ok := historyEntry(text); ok {
			src.addHistory(h)
		}
		sh.runText(ctx, text, startLine)
	}
	return nil
}

// runText runs the statements of text, one after the other.
func (sh *shell) runText(ctx context.Context, text string, line int) {
	for _, st := range splitStatements(text) {
		if ctx.Err() != nil {
			return
		}
		sh.ran++
		if err := sh.exec(ctx, st); err != nil {
			sh.failed++
			sh.printError(ctx, err, line)
		}
	}
}

func (sh *shell) printError(ctx context.Context, err error, line int) {
	msg := strings.TrimRight(err.Error(), "\n")
	if ctx.Err() != nil {
		return // the shell is ending; runSQLShell says why
	}
	if errors.Is(err, context.Canceled) || strings.Contains(msg, "INTERRUPT Error") {
		msg = "cancelled"
	}
	if !sh.interactive && line > 0 {
		fmt.Fprintf(sh.errw, "line %d: %s\n", line, msg)
		return
	}
	fmt.Fprintln(sh.errw, msg)
}

// exec runs one statement and writes its rows; Ctrl-C cancels it.
func (sh *shell) exec(ctx context.Context, q string) error {
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	sh.mu.Lock()
	sh.running = cancel
	sh.mu.Unlock()
	defer func() {
		sh.mu.Lock()
		sh.running = nil
		sh.mu.Unlock()
	}()
	start := time.Now()
	rows, err := sh.engine.Query(sctx, q, nil)
	if err != nil {
		if sctx.Err() != nil {
			return context.Canceled
		}
		if ps := audit.Params(q); len(ps) > 0 {
			return fmt.Errorf("%w\nthe shell gives no values to parameters ($%s): write the values in, or use fullstop query --param", err, strings.Join(ps, ", $"))
		}
		return err
	}
	if sh.completes {
		defer sh.refreshViews(ctx) // a statement may create a table, or load violations
	}
	defer rows.Close()
	n, cut, err := writeResult(sh.out, sh.format, rows.Columns, rows.Types, rows, sh.maxRows)
	if err != nil {
		if sctx.Err() != nil {
			return context.Canceled
		}
		return err
	}
	if cut {
		fmt.Fprintf(sh.errw, "the first %d rows shown (--max-rows; .output csv or jsonl writes all)\n", sh.maxRows)
	}
	if sh.timer {
		fmt.Fprintf(sh.errw, "%s (%s)\n", countOf(n, "row"), time.Since(start).Round(time.Millisecond))
	}
	return nil
}

// refreshViews reads the views and their columns again.
func (sh *shell) refreshViews(ctx context.Context) {
	if v, err := sh.engine.Views(ctx); err == nil {
		sh.views = v
	}
}

// shellCommands are the dot commands, as .help lists them.
var shellCommands = []struct{ name, args, help string }{
	{".help", "", "list the commands"},
	{".tables", "", "list the views and tables, with their number of columns"},
	{".schema", "[VIEW]", "the columns of a view and their types (of all views without VIEW)"},
	{".output", "[FORMAT]", "the output format: " + strings.Join(shellFormats, ", ")},
	{".timer", "[on|off]", "show the row count and the time taken after each statement"},
	{".quit", "", "leave the shell (also .exit, Ctrl-D)"},
	{".exit", "", "leave the shell"},
}

// command runs a dot command and reports whether the shell should end.
func (sh *shell) command(ctx context.Context, line string) (quit bool) {
	f := strings.Fields(strings.TrimSuffix(strings.TrimSpace(line), ";"))
	name, args := strings.ToLower(f[0]), f[1:]
	sh.ran++
	fail := func(format string, a ...any) bool {
		sh.failed++
		sh.printError(ctx, fmt.Errorf(format, a...), sh.line)
		return false
	}
	switch name {
	case ".quit", ".exit":
		return true
	case ".help":
		bw := bufio.NewWriter(sh.out)
		for _, c := range shellCommands {
			if c.name == ".exit" {
				continue
			}
			fmt.Fprintf(bw, "%-18s %s\n", strings.TrimSpace(c.name+" "+c.args), c.help)
		}
		fmt.Fprintln(bw, "A statement ends with ';' at the end of a line; Ctrl-C clears the statement being typed or cancels the running one.")
		bw.Flush()
	case ".tables":
		sh.refreshViews(ctx)
		var rows [][]string
		for _, n := range sortedKeys(sh.views) {
			cols := fmt.Sprint(len(sh.views[n]))
			if sh.views[n] == nil && slices.Contains(audit.TableViews(), n) {
				cols = "(from PostgreSQL, loaded when first named)"
			}
			rows = append(rows, []string{n, cols})
		}
		bw := bufio.NewWriter(sh.out)
		printAligned(bw, []string{"name", "columns"}, rows)
		bw.Flush()
	case ".schema":
		if len(args) > 1 {
			return fail(".schema: give one view, not %d", len(args))
		}
		sh.refreshViews(ctx)
		names := sortedKeys(sh.views)
		if len(args) == 1 {
			n := strings.ToLower(strings.Trim(args[0], `"`))
			if _, ok := sh.views[n]; !ok {
				if slices.Contains(audit.TableViews(), n) {
					return fail(".schema: the view %s is loaded from PostgreSQL: set DATABASE_URL (--database-url)", n)
				}
				return fail(".schema: no view %q (.tables lists them)", args[0])
			}
			if sh.views[n] == nil {
				// violations and ledger load when a statement names them.
				rows, err := sh.engine.Query(ctx, "SELECT * FROM "+n+" LIMIT 0", nil)
				if err != nil {
					return fail("%v", err)
				}
				rows.Close()
				sh.refreshViews(ctx)
			}
			names = []string{n}
		}
		bw := bufio.NewWriter(sh.out)
		for i, n := range names {
			if i > 0 {
				bw.WriteString("\n")
			}
			fmt.Fprintf(bw, "%s:\n", n)
			if sh.views[n] == nil {
				fmt.Fprintf(bw, "  (from PostgreSQL, not loaded yet: .schema %s loads it)\n", n)
				continue
			}
			var rows [][]string
			for _, c := range sh.views[n] {
				rows = append(rows, []string{c.Name, c.Type})
			}
			printAligned(bw, []string{"column", "type"}, rows)
		}
		bw.Flush()
	case ".output":
		switch {
		case len(args) == 0:
			fmt.Fprintln(sh.out, sh.format)
		case len(args) == 1 && slices.Contains(shellFormats, strings.ToLower(args[0])):
			sh.format = strings.ToLower(args[0])
		default:
			return fail(".output: want one of %s", strings.Join(shellFormats, ", "))
		}
	case ".timer":
		switch {
		case len(args) == 0:
			fmt.Fprintln(sh.out, map[bool]string{true: "on", false: "off"}[sh.timer])
		case len(args) == 1 && strings.EqualFold(args[0], "on"):
			sh.timer = true
		case len(args) == 1 && strings.EqualFold(args[0], "off"):
			sh.timer = false
		default:
			return fail(".timer: want on or off")
		}
	default:
		return fail("unknown command %s (.help lists them)", f[0])
	}
	return false
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// plainSource reads lines with bufio: a script, or a terminal liner does
// not support. It prints the prompts (to stderr) only on a terminal.
type plainSource struct {
	lines  chan lineRead
	prompt io.Writer // nil: no prompts
	abort  <-chan struct{}
}

type lineRead struct {
	line string
	err  error
}

func newPlainSource(sh *shell, r io.Reader) *plainSource {
	p := &plainSource{lines: make(chan lineRead), abort: sh.abort}
	if sh.interactive {
		p.prompt = sh.errw
	}
	go func() {
		br := bufio.NewReader(r)
		for {
			line, err := br.ReadString('\n')
			if err == io.EOF && line != "" {
				err = nil
			}
			p.lines <- lineRead{strings.TrimRight(line, "\r\n"), err}
			if err != nil {
				return
			}
		}
	}()
	return p
}

func (p *plainSource) read(ctx context.Context, prompt string) (string, error) {
	if p.prompt != nil {
		fmt.Fprint(p.prompt, prompt)
	}
	select {
	case l := <-p.lines:
		return l.line, l.err
	case <-p.abort:
		if p.prompt != nil {
			fmt.Fprintln(p.prompt)
		}
		return "", errAbort
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

func (p *plainSource) addHistory(string) {}

// linerSource reads lines on a terminal with liner, with the history file
// and completion.
type linerSource struct {
	l        *liner.State
	sh       *shell
	histPath string
	plain    *plainSource // set when the terminal turns out not to support liner
}

func newLinerSource(sh *shell, histPath string) *linerSource {
	l := liner.NewLiner()
	l.SetCtrlCAborts(true)
	l.SetMultiLineMode(true)
	l.SetTabCompletionStyle(liner.TabPrints)
	l.SetWordCompleter(func(line string, pos int) (string, []string, string) {
		return completeSQL(line, pos, sh.views)
	})
	ls := &linerSource{l: l, sh: sh, histPath: histPath}
	if histPath != "" {
		if err := loadHistory(l, histPath); err != nil {
			fmt.Fprintf(sh.errw, "history: %v\n", err)
		}
	}
	return ls
}

func (ls *linerSource) read(ctx context.Context, prompt string) (string, error) {
	if ls.plain != nil {
		return ls.plain.read(ctx, prompt)
	}
	line, err := ls.l.Prompt(prompt)
	switch {
	case errors.Is(err, liner.ErrPromptAborted):
		return "", errAbort
	case errors.Is(err, liner.ErrNotTerminalOutput):
		ls.plain = newPlainSource(ls.sh, os.Stdin)
		return ls.plain.read(ctx, prompt)
	}
	return line, err
}

func (ls *linerSource) addHistory(entry string) { ls.l.AppendHistory(entry) }

func (ls *linerSource) close() {
	if ls.histPath != "" {
		if err := saveHistory(ls.l, ls.histPath); err != nil {
			fmt.Fprintf(ls.sh.errw, "history: %v\n", err)
		}
	}
	ls.l.Close()
}

// sqlHistoryPath is the history file: flag (--history or
// FULLSTOP_SQL_HISTORY) if set, else $XDG_STATE_HOME/fullstop/sql_history,
// else ~/.local/state/fullstop/sql_history.
func sqlHistoryPath(flag string, getenv func(string) string, home func() (string, error)) (string, error) {
	if flag != "" {
		return flag, nil
	}
	if d := getenv("XDG_STATE_HOME"); filepath.IsAbs(d) { // the spec ignores a relative path
		return filepath.Join(d, "fullstop", "sql_history"), nil
	}
	h, err := home()
	if err != nil {
		return "", fmt.Errorf("no home folder for the history file (%v): give --history FILE or --no-history", err)
	}
	return filepath.Join(h, ".local", "state", "fullstop", "sql_history"), nil
}

// history is what loadHistory and saveHistory need of *liner.State.
type history interface {
	AppendHistory(item string)
	WriteHistory(w io.Writer) (int, error)
}

// loadHistory reads the history file, one entry a line; a file that does
// not exist is an empty history. (liner's ReadHistory stops at a line
// longer than 4 KiB; a statement can be.)
func loadHistory(h history, path string) error {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	for sc.Scan() {
		if line := sc.Text(); strings.TrimSpace(line) != "" {
			h.AppendHistory(line)
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	return nil
}

// saveHistory writes the history file, creating its folder: through a
// temporary file renamed over it, so that a failed write loses nothing.
func saveHistory(h history, path string) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, ".sql_history-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if _, err := h.WriteHistory(f); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return os.Rename(f.Name(), path)
}

// sqlScan is what scanSQL finds in a text of SQL.
type sqlScan struct {
	stmts          []string // the statements ended by ';' that have content
	rest           string   // the text after the last ';', if it has content
	open           bool     // the text ends inside a string, a quoted name or a block comment
	lineComment    bool     // the text ends inside a -- comment
	lastSemi       bool     // the last character that is not space or comment is a ';'
	newlineInQuote bool     // a string or a quoted name holds a line break
}

// scanSQL splits SQL text at the semicolons outside strings ('…', where a
// doubled quote is a quote, E'…' with backslash escapes, $tag$…$tag$),
// quoted names ("…") and comments (-- to the end of the line, nested
// /* … */).
func scanSQL(s string) sqlScan {
	var out sqlScan
	start := 0       // of the current statement
	content := false // the current statement has more than space and comments
	isWord := func(c byte) bool {
		return c == '_' || c == '$' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80
	}
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ';':
			if content {
				out.stmts = append(out.stmts, strings.TrimSpace(s[start:i]))
			}
			start, content, out.lastSemi = i+1, false, true
			i++
			continue
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f':
			i++
			continue
		case strings.HasPrefix(s[i:], "--"):
			if j := strings.IndexByte(s[i:], '\n'); j >= 0 {
				i += j
			} else {
				i, out.lineComment = len(s), true
			}
			continue
		case strings.HasPrefix(s[i:], "/*"):
			depth := 1
			for i += 2; i < len(s) && depth > 0; {
				switch {
				case strings.HasPrefix(s[i:], "/*"):
					depth++
					i += 2
				case strings.HasPrefix(s[i:], "*/"):
					depth--
					i += 2
				default:
					i++
				}
			}
			out.open = depth > 0
			continue
		}
		content, out.lastSemi = true, false
		switch {
		case c == '\'' || c == '"':
			escapes := c == '\'' && i > 0 && (s[i-1] == 'e' || s[i-1] == 'E') && (i < 2 || !isWord(s[i-2]))
			j := i + 1
			for ; j < len(s); j++ {
				if escapes && s[j] == '\\' {
					j++
					continue
				}
				if s[j] == '\n' {
					out.newlineInQuote = true
				}
				if s[j] == c {
					if j+1 < len(s) && s[j+1] == c {
						j++ // '' or ""
						continue
					}
					break
				}
			}
			if j >= len(s) {
				out.open = true
			}
			i = j + 1
		case c == '$' && (i == 0 || !isWord(s[i-1])):
			// $tag$ opens a dollar-quoted string; $name and $1 are parameters.
			j := i + 1
			for j < len(s) && (s[j] == '_' || s[j] >= 'a' && s[j] <= 'z' || s[j] >= 'A' && s[j] <= 'Z' || s[j] >= 0x80 || j > i+1 && s[j] >= '0' && s[j] <= '9') {
				j++
			}
			if j >= len(s) || s[j] != '$' {
				i = j
				continue
			}
			tag := s[i : j+1]
			end := strings.Index(s[j+1:], tag)
			if end < 0 {
				out.open = true
				if strings.Contains(s[j+1:], "\n") {
					out.newlineInQuote = true
				}
				i = len(s)
				continue
			}
			if strings.Contains(s[j+1:j+1+end], "\n") {
				out.newlineInQuote = true
			}
			i = j + 1 + end + len(tag)
		default:
			i++
		}
	}
	if content {
		out.rest = strings.TrimSpace(s[start:])
	}
	return out
}

// statementComplete reports whether the text typed so far is whole: it ends
// with a ';' outside strings, quoted names and comments (a comment may
// follow the ';').
func statementComplete(text string) bool {
	sc := scanSQL(text)
	return !sc.open && sc.lastSemi
}

// splitStatements returns the statements of text, without their ';', and
// the text after the last ';' (a script's last statement may lack it); the
// pieces that are only space and comments are left out.
func splitStatements(text string) []string {
	sc := scanSQL(text)
	if sc.rest != "" {
		return append(sc.stmts, sc.rest)
	}
	return sc.stmts
}

// historyEntry is the history entry of a statement: on one line, as liner's
// history is line by line; the line breaks outside strings become spaces
// and -- comments become /* */ ones. A statement with a line break inside a
// string cannot be one line without changing it: it is not recorded.
func historyEntry(text string) (string, bool) {
	if scanSQL(text).newlineInQuote {
		return "", false
	}
	var lines []string
	for _, l := range strings.Split(text, "\n") {
		code, comment := splitLineComment(l)
		code = strings.TrimSpace(code)
		if comment != "" && !strings.Contains(comment, "*/") {
			code = strings.TrimSpace(code + " /* " + strings.TrimSpace(comment) + " */")
		}
		if code != "" {
			lines = append(lines, code)
		}
	}
	return strings.Join(lines, " "), true
}

// splitLineComment splits a line of SQL at its -- comment, outside
// strings; the comment is returned without its --.
func splitLineComment(line string) (code, comment string) {
	var quote byte
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"':
			quote = c
		case c == '-' && i+1 < len(line) && line[i+1] == '-':
			return line[:i], line[i+2:]
		}
	}
	return line, ""
}

// sqlKeywords are the words completeSQL offers besides the names.
var sqlKeywords = []string{
	"ALL", "AND", "ANY", "AS", "ASC", "AVG", "BETWEEN", "BY", "CASE", "CAST", "COALESCE", "COPY", "COUNT",
	"CREATE", "CROSS", "DATE", "DATE_TRUNC", "DESC", "DESCRIBE", "DISTINCT", "DROP", "ELSE", "END", "EXCEPT",
	"EXISTS", "EXPLAIN", "FALSE", "FILTER", "FROM", "FULL", "GROUP", "HAVING", "ILIKE", "IN", "INNER",
	"INTERSECT", "INTERVAL", "INTO", "IS", "JOIN", "LEFT", "LIKE", "LIMIT", "LIST", "MAX", "MIN", "NOT",
	"NULL", "NULLS", "OFFSET", "ON", "OR", "ORDER", "OUTER", "OVER", "PARTITION", "QUALIFY", "REGEXP_MATCHES",
	"RIGHT", "SELECT", "SHOW", "STRING_AGG", "SUM", "SUMMARIZE", "TABLE", "TEMP", "THEN", "TIMESTAMP",
	"TIMESTAMPTZ", "TRUE", "UNION", "UNNEST", "USING", "VALUES", "VIEW", "WHEN", "WHERE", "WINDOW", "WITH",
}

// tableWords are the keywords after which a name is a view's.
var tableWords = []string{"FROM", "JOIN", "DESCRIBE", "SUMMARIZE", "TABLE"}

// completeSQL is the shell's Tab completion (a liner.WordCompleter): line
// is the line being edited and pos the cursor, in runes. It completes the
// word before the cursor, case-insensitively: a dot command at the start
// of the line and its argument; after FROM or JOIN a view; after NAME. a
// column of view NAME (of any view if NAME is an alias); else a view, a
// column or a keyword, in the case the word is typed in.
func completeSQL(line string, pos int, views map[string][]audit.Column) (head string, completions []string, tail string) {
	r := []rune(line)
	pos = max(0, min(pos, len(r)))
	before, tail := r[:pos], string(r[pos:])
	isWord := func(c rune) bool { return c == '_' || unicode.IsLetter(c) || unicode.IsDigit(c) }
	start := pos
	for start > 0 && isWord(before[start-1]) {
		start--
	}
	word := string(before[start:])
	head = string(before[:start])
	lowWord := strings.ToLower(word)
	match := func(names []string) []string {
		var out []string
		for _, n := range names {
			if strings.HasPrefix(strings.ToLower(n), lowWord) && !slices.Contains(out, n) {
				out = append(out, n)
			}
		}
		slices.Sort(out)
		return out
	}
	viewNames := sortedKeys(views)
	allColumns := func() []string {
		var cols []string
		for _, v := range viewNames {
			for _, c := range views[v] {
				cols = append(cols, c.Name)
			}
		}
		return cols
	}

	trimmed := strings.TrimLeftFunc(string(before), unicode.IsSpace)
	// A dot command, or its argument.
	if strings.HasPrefix(trimmed, ".") {
		if start > 0 && before[start-1] == '.' && strings.TrimSpace(string(before[:start-1])) == "" {
			var names []string
			for _, c := range shellCommands {
				names = append(names, c.name[1:])
			}
			return string(before[:start-1]), prefixAll(".", match(names)), tail
		}
		f := strings.Fields(trimmed)
		if len(f) == 1 || len(f) == 2 && word != "" {
			switch strings.ToLower(f[0]) {
			case ".schema":
				return head, match(viewNames), tail
			case ".output":
				return head, match(shellFormats), tail
			case ".timer":
				return head, match([]string{"on", "off"}), tail
			}
		}
		return head, nil, tail
	}
	if sc := scanSQL(string(before[:start])); sc.open || sc.lineComment {
		return head, nil, tail // in a string or a comment
	}
	// NAME.column
	if start > 0 && before[start-1] == '.' {
		q := start - 1
		for q > 0 && isWord(before[q-1]) {
			q--
		}
		qual := strings.ToLower(string(before[q : start-1]))
		if cols, ok := views[qual]; ok {
			var names []string
			for _, c := range cols {
				names = append(names, c.Name)
			}
			return head, match(names), tail
		}
		return head, match(allColumns()), tail
	}
	// After FROM or JOIN: a view.
	p := start
	for p > 0 && unicode.IsSpace(before[p-1]) {
		p--
	}
	if p < start {
		q := p
		for q > 0 && isWord(before[q-1]) {
			q--
		}
		prev := string(before[q:p])
		if slices.ContainsFunc(tableWords, func(k string) bool { return strings.EqualFold(k, prev) }) {
			return head, match(viewNames), tail
		}
	}
	if word == "" {
		return head, nil, tail
	}
	var out []string
	for _, k := range match(sqlKeywords) {
		out = append(out, inCaseOf(word, k))
	}
	for _, n := range append(match(viewNames), match(allColumns())...) {
		if !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	slices.SortFunc(out, func(a, b string) int { return strings.Compare(strings.ToLower(a), strings.ToLower(b)) })
	return head, slices.Compact(out), tail
}

func prefixAll(p string, ss []string) []string {
	for i, s := range ss {
		ss[i] = p + s
	}
	return ss
}

// inCaseOf writes keyword k in the case of the typed word: lower case if
// the word has no capital, upper case if it has no small letter, else the
// word followed by the rest of k in lower case.
func inCaseOf(word, k string) string {
	switch {
	case word == strings.ToLower(word):
		return strings.ToLower(k)
	case word == strings.ToUpper(word) || len(word) > len(k):
		return strings.ToUpper(k)
	}
	return word + strings.ToLower(k[len(word):])
}
