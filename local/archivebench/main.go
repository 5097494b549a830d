// Command archivebench measures the archive with thousands of recordings
// through the production topology (local/stack: every function its own
// process, Nginx in front): how soon a member sees the first rows of the
// archive page in Chromium, and how fast the API answers searches.
//
//	go run ./local/archivebench -recordings 2000 -loads 9 -rounds 40
//
// The archive is seeded straight into the database (rows, waveforms and
// the scores of 7 members; no files), with titles, venues (some accented),
// sources, notes, file names and dates of the kind a band's archive holds.
//
// First rows: each load opens / in a fresh browser context (nothing
// cached) with a member's session, and records, from the navigation's
// start, when the list's answer arrived, when the first row was in the DOM
// and when the frame that shows it was painted. The same loads again in a
// context that has the page's files cached give the warm figures.
//
// Search: GET /api/recordings?q=... as the page asks it (sorted by score,
// 50 a page) through Nginx with the session, one request at a time, the
// queries taken in turn: single words, two words, a year, an accented
// word, a typo, and the list without a search as the baseline. It prints
// p50 and p99 of all searches and the p50 of each kind.
//
// It needs DATABASE_URL (make bench sets it), Nginx and Chromium (Debian:
// apt-get install nginx chromium), and runs from the checkout's root.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"slices"
	"strings"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/jackc/pgx/v5"

	"bandarchive/local/stack"
	"bandarchive/shared/auth"
)

func main() {
	recordings := flag.Int("recordings", 2000, "recordings in the archive")
	loads := flag.Int("loads", 9, "loads of the archive page, cold and warm each")
	rounds := flag.Int("rounds", 40, "rounds of the search queries (each query once a round)")
	flag.Parse()
	if err := run(context.Background(), *recordings, *loads, *rounds); err != nil {
		fmt.Fprintln(os.Stderr, "archivebench:", err)
		os.Exit(1)
	}
}

// searches are the queries, by kind, as members type them into the
// archive's search field.
var searches = []struct{ kind, q string }{
	{"no search (the ranking)", ""},
	{"one word", "lantern"},
	{"one word", "soundcheck"},
	{"two words", "harbour second"},
	{"two words", "paradiso soundcheck"},
	{"a year", "1998"},
	{"a year and a word", "2003 lantern"},
	{"an accented word", "köln"},
	{"an accented word", "zürich"},
	{"a typo", "rehersal"},
	{"a typo", "paradisso"},
}

func run(ctx context.Context, recordings, loads, rounds int) error {
	dbURL := os.Getenv("DATABASE_URL")
	if dbURL == "" {
		return errors.New("DATABASE_URL is not set (run make bench)")
	}
	browserBin, err := chromiumBinary()
	if err != nil {
		return err
	}
	schemaURL, drop, err := newSchema(ctx, dbURL)
	if err != nil {
		return err
	}
	defer drop()
	uploads, err := os.MkdirTemp("", "archivebench-uploads-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(uploads)
	st, err := stack.Start(ctx, stack.Options{Env: []string{
		"DATABASE_URL=" + schemaURL, "UPLOADS_DIR=" + uploads,
		"ADMIN_EMAIL=bench@band.example", "LOG_LEVEL=warn",
	}})
	if err != nil {
		return fmt.Errorf("start the stack: %w", err)
	}
	defer st.Stop()

	began := time.Now()
	session, err := seed(ctx, schemaURL, recordings)
	if err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	fmt.Printf("archive of %d recordings, 7 members, seeded in %s; the stack started in %s\n\n",
		recordings, time.Since(began).Round(time.Millisecond), st.Started.Round(time.Millisecond))

	cold, warm, err := pageLoads(ctx, browserBin, st.BaseURL, session, loads)
	if err != nil {
		return err
	}
	fmt.Printf("The archive page (/), from the navigation's start, in ms, %d loads each:\n", loads)
	fmt.Printf("  %-6s %-22s %7s %7s %7s\n", "", "", "median", "p90", "min")
	for _, l := range []struct {
		name  string
		times []loadTimes
	}{{"cold", cold}, {"warm", warm}} {
		for i, f := range []struct {
			name string
			of   func(loadTimes) float64
		}{
			{"list answered", func(t loadTimes) float64 { return t.ListAnswered }},
			{"first row in the DOM", func(t loadTimes) float64 { return t.InDOM }},
			{"first row painted", func(t loadTimes) float64 { return t.Painted }},
		} {
			xs := make([]float64, len(l.times))
			for j, t := range l.times {
				xs[j] = f.of(t)
			}
			slices.Sort(xs)
			name := l.name
			if i > 0 {
				name = ""
			}
			fmt.Printf("  %-6s %-22s %7.0f %7.0f %7.0f\n", name, f.name, quantile(xs, 0.5), quantile(xs, 0.9), xs[0])
		}
	}
	fmt.Println("  (cold: a fresh browser context, nothing cached; warm: the page's files cached)")

	lat, err := searchLatencies(st.BaseURL, session, rounds)
	if err != nil {
		return err
	}
	var all []float64
	kinds := []string{}
	byKind := map[string][]float64{}
	for i, s := range searches {
		byKind[s.kind] = append(byKind[s.kind], lat[i]...)
		if !slices.Contains(kinds, s.kind) {
			kinds = append(kinds, s.kind)
		}
		if s.q != "" {
			all = append(all, lat[i]...)
		}
	}
	slices.Sort(all)
	fmt.Printf("\nGET /api/recordings?q=... through Nginx, one at a time, %d rounds of %d queries:\n", rounds, len(searches)-1)
	fmt.Printf("  every search: p50 %.1f ms, p99 %.1f ms (%d requests)\n", quantile(all, 0.5), quantile(all, 0.99), len(all))
	for _, k := range kinds {
		xs := byKind[k]
		slices.Sort(xs)
		fmt.Printf("  %-24s p50 %6.1f ms  p99 %6.1f ms\n", k+":", quantile(xs, 0.5), quantile(xs, 0.99))
	}
	return nil
}

// chromiumBinary finds Debian's Chromium.
func chromiumBinary() (string, error) {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", errors.New("chromium is not installed (Debian: apt-get install chromium)")
}

// newSchema makes a schema of its own in the database and returns a URL
// whose search_path is it, and a function that drops it.
func newSchema(ctx context.Context, dbURL string) (string, func(), error) {
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return "", nil, err
	}
	schema := fmt.Sprintf("archivebench_%d", time.Now().UnixNano())
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		conn.Close(ctx)
		return "", nil, err
	}
	drop := func() {
		conn.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
		conn.Close(context.Background())
	}
	u, err := url.Parse(dbURL)
	if err != nil {
		drop()
		return "", nil, err
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String(), drop, nil
}

// seed fills the migrated archive: six members beside the admin, n
// recordings with waveforms, each member scoring about two thirds of
// them; and returns a session cookie of the admin's.
func seed(ctx context.Context, dbURL string, n int) (*http.Cookie, error) {
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return nil, err
	}
	defer conn.Close(ctx)
	tx, err := conn.Begin(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback(ctx)
	steps := []string{
		`INSERT INTO users (id, email, display_name, role, created_at)
			SELECT gen_random_uuid(), 'm' || i || '@band.example', 'Member ' || i, 'member', now()
			FROM generate_series(1, 6) AS i`,
		// Titles, venues and notes from small vocabularies, so that words
		// repeat across the archive as they do in a band's.
		`INSERT INTO recordings (id, title, original_filename, format, mime_type, duration_seconds,
			file_size_bytes, sha256, uploaded_at, uploaded_by, recorded_date, venue, source, notes,
			peaks, processing_state)
		SELECT gen_random_uuid(),
			(ARRAY['Lantern over the harbour', 'Rehearsal', 'Soundcheck', 'Encore', 'Night drive', 'Paper moon',
			       'Harbour lights', 'Slow burn', 'Jam in E', 'Blue room'])[1 + i % 10]
				|| CASE WHEN i % 3 = 0 THEN ' (take ' || (1 + i % 7) || ')' ELSE '' END,
			'Band_' || to_char(date '1992-01-01' + (i * 7 % 12000), 'YYYY_MM_DD') || '_take_' || i || '.wav',
			'wav', 'audio/wav', 60 + i % 3600, 10000000 + i, sha256(('archivebench' || i)::bytea),
			now() - i * interval '1 hour', (SELECT id FROM users WHERE role = 'admin' LIMIT 1),
			date '1992-01-01' + (i * 7 % 12000),
			(ARRAY['Paradiso, Amsterdam', 'Roxy, Köln', 'Rote Fabrik, Zürich', 'Café Central, Wien',
			       'The rehearsal room', 'Vera, Groningen', 'Melkweg, Amsterdam', 'Gebäude 9, Köln'])[1 + i % 8],
			(ARRAY['DAT', 'cassette', 'minidisc', 'multitrack', 'phone'])[1 + i % 5],
			(ARRAY['Second set.', 'The tape wobbles in the middle.', 'New bass player.', '',
			       'Recorded from the desk.', 'Encore missing, the tape ran out.'])[1 + i % 6],
			decode(repeat(md5(i::text), 32), 'hex'), 'ready'
		FROM generate_series(1, $1::int) AS i`,
		`INSERT INTO scores (recording_id, user_id, score, scored_at)
		SELECT r.id, u.id, 1 + abs(hashtext(r.id::text || u.id::text)) % 5, now()
		FROM recordings r CROSS JOIN users u
		WHERE abs(hashtext(u.id::text || r.id::text)) % 3 <> 0`,
	}
	for i, sql := range steps {
		var args []any
		if i == 1 {
			args = append(args, n)
		}
		if _, err := tx.Exec(ctx, sql, args...); err != nil {
			return nil, err
		}
	}
	token := auth.NewToken()
	if _, err := tx.Exec(ctx, `INSERT INTO sessions (id, token_hash, user_id, created_at, expires_at, last_seen_at)
		SELECT gen_random_uuid(), $1, id, now(), now() + interval '1 day', now() FROM users WHERE role = 'admin'`, token.Hash()); err != nil {
		return nil, err
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, err
	}
	// Statistics, as autoanalyze leaves them after a bulk insert. (The
	// search index takes new rows at once: migration 009.)
	if _, err := conn.Exec(ctx, "ANALYZE users, recordings, scores"); err != nil {
		return nil, err
	}
	return &http.Cookie{Name: auth.CookieName, Value: token.String()}, nil
}

// loadTimes are the moments of one load of the archive page, in ms from
// the navigation's start.
type loadTimes struct {
	ListAnswered float64 // the list's response ended
	InDOM        float64 // the first row was added
	Painted      float64 // the frame that shows it was painted
}

// firstRowScript runs before the page's own scripts: it notes when the
// first row of the list enters the DOM, and when the next frame has been
// painted (a task posted from requestAnimationFrame runs after the paint).
const firstRowScript = `(() => {
	const seen = new MutationObserver(() => {
		if (!document.querySelector('.recording a.title')) return;
		seen.disconnect();
		const row = { inDOM: performance.now() };
		requestAnimationFrame(() => {
			const c = new MessageChannel();
			c.port1.onmessage = () => { row.painted = performance.now(); window.__firstRow = row; };
			c.port2.postMessage(null);
		});
	});
	seen.observe(document, { childList: true, subtree: true });
})()`

// pageLoads loads the archive page n times in fresh browser contexts
// (cold), and n times again in one context that has loaded it once
// (warm).
func pageLoads(ctx context.Context, bin, base string, session *http.Cookie, n int) (cold, warm []loadTimes, err error) {
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(bin), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.WindowSize(1280, 900))
	alloc, cancel := chromedp.NewExecAllocator(ctx, opts...)
	defer cancel()
	browser, cancel := chromedp.NewContext(alloc)
	defer cancel()
	if err := chromedp.Do(browser); err != nil {
		return nil, nil, fmt.Errorf("start chromium: %w", err)
	}
	newTab := func() (context.Context, func(), error) {
		tab, cancel := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
		if _, err := chromedp.Call(tab, network.SetCookie, network.SetCookieParams{Name: session.Name, Value: session.Value, URL: base}); err != nil {
			cancel()
			return nil, nil, err
		}
		if _, err := chromedp.Call(tab, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: firstRowScript}); err != nil {
			cancel()
			return nil, nil, err
		}
		return tab, cancel, nil
	}
	load := func(tab context.Context) (loadTimes, error) {
		ctx, cancel := context.WithTimeout(tab, time.Minute)
		defer cancel()
		if err := chromedp.Do(ctx, chromedp.Navigate(base+"/")); err != nil {
			return loadTimes{}, err
		}
		return chromedp.Run(ctx, chromedp.Poll[loadTimes](`window.__firstRow && {
			ListAnswered: performance.getEntriesByType('resource').find((e) => e.name.includes('/api/recordings?'))?.responseEnd ?? -1,
			InDOM: window.__firstRow.inDOM, Painted: window.__firstRow.painted }`, chromedp.WithPollingTimeout(50*time.Second)))
	}
	warmTab, closeWarm, err := newTab()
	if err != nil {
		return nil, nil, err
	}
	defer closeWarm()
	if _, err := load(warmTab); err != nil { // fills its cache
		return nil, nil, fmt.Errorf("load the archive page: %w", err)
	}
	for i := range n {
		// Cold and warm loads alternate, so both see the same noise.
		tab, closeTab, err := newTab()
		if err != nil {
			return nil, nil, err
		}
		c, err := load(tab)
		closeTab()
		if err != nil {
			return nil, nil, fmt.Errorf("cold load %d: %w", i+1, err)
		}
		w, err := load(warmTab)
		if err != nil {
			return nil, nil, fmt.Errorf("warm load %d: %w", i+1, err)
		}
		cold, warm = append(cold, c), append(warm, w)
	}
	return cold, warm, nil
}

// searchLatencies sends every query of searches rounds times, one request
// at a time, after a round to warm up, and returns the latencies in ms by
// query.
func searchLatencies(base string, session *http.Cookie, rounds int) ([][]float64, error) {
	client := &http.Client{Timeout: time.Minute}
	defer client.CloseIdleConnections()
	get := func(q string) (float64, error) {
		p := url.Values{"sort": {"score"}, "limit": {"50"}}
		if q != "" {
			p.Set("q", q)
		}
		req, err := http.NewRequest(http.MethodGet, base+"/api/recordings?"+p.Encode(), nil)
		if err != nil {
			return 0, err
		}
		req.AddCookie(session)
		start := time.Now()
		resp, err := client.Do(req)
		if err != nil {
			return 0, err
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		took := time.Since(start)
		if err != nil {
			return 0, err
		}
		if resp.StatusCode != http.StatusOK {
			return 0, fmt.Errorf("GET %s: %d %s", req.URL, resp.StatusCode, body)
		}
		if q != "" && !strings.Contains(string(body), `"id"`) {
			return 0, fmt.Errorf("the search %q found nothing: the benchmark would measure an empty answer", q)
		}
		return float64(took.Microseconds()) / 1000, nil
	}
	lat := make([][]float64, len(searches))
	for round := -1; round < rounds; round++ {
		for i, s := range searches {
			ms, err := get(s.q)
			if err != nil {
				return nil, err
			}
			if round >= 0 {
				lat[i] = append(lat[i], ms)
			}
		}
	}
	return lat, nil
}

// quantile of sorted xs, by the nearest rank.
func quantile(sorted []float64, q float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(q*float64(len(sorted))+0.5) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}
