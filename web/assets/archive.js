// archive.js: the archive and ranking (/). Filters live in the URL so that
// reloading or going back keeps them. "Play all" plays the list as shown;
// "Score as you listen" plays the part of it I have not scored, with the
// stars in the player.
import { api } from './api.js';
import { ICONS, player } from './player.js';
import { replaceAddress } from './router.js';
import { renderAverage, starIcon } from './stars.js';
import { attach, decodePeaks } from './waveform.js';
import { $, h, svgIcon, say as sayOnPage, debounce, formatDate, formatDuration, scoredText, recordingTitle } from './ui.js';

const SORTS = ['score', 'recorded', 'uploaded', 'title'];
const CAPTIONS = {
  score: 'Recordings, best scored first',
  recorded: 'Recordings by recorded date',
  uploaded: 'Recordings, recently uploaded first',
  title: 'Recordings by title',
};

export default async function mount({ me, signal }) {
  // Work that ends after the member has moved on says nothing on the next page.
  const say = (...args) => { if (!signal.aborted) sayOnPage(...args); };
  const sortEl = $('#sort');
  const qEl = $('#q');
  const filterEls = { year: $('#year'), venue: $('#venue'), source: $('#source') };
  // reversed: the sort runs the other way (a column heading clicked twice);
  // the API spells it with a leading "-".
  let reversed = false;
  const sortParam = () => (reversed ? '-' : '') + sortEl.value;
  const unscoredEl = $('#unscored');
  const rows = $('#rows');
  const results = $('#results');
  const empty = $('#empty');
  const loadMore = $('#load-more');

  let cursor = null;
  let inflight = null; // AbortController of the request in progress
  let total = 0;
  let shown = []; // the recordings in the table, in its order
  let shownQuery = null; // the query they answer, for the player to fetch more
  let members = null;
  signal.addEventListener('abort', () => inflight?.abort());

  function readUrl() {
    const p = new URLSearchParams(location.search);
    const sort = p.get('sort') || 'score';
    reversed = sort.startsWith('-');
    const base = reversed ? sort.slice(1) : sort;
    sortEl.value = SORTS.includes(base) ? base : 'score';
    if (!SORTS.includes(base)) reversed = false;
    qEl.value = p.get('q') || '';
    for (const [k, el] of Object.entries(filterEls)) el.value = p.get(k) || '';
    unscoredEl.checked = p.get('unscored') === 'me';
  }

  // The query of the list as the page shows it, for the API and the address.
  function listParams() {
    const p = new URLSearchParams();
    if (sortParam() !== 'score') p.set('sort', sortParam());
    if (qEl.value.trim()) p.set('q', qEl.value.trim());
    for (const [k, el] of Object.entries(filterEls)) if (el.value.trim()) p.set(k, el.value.trim());
    if (unscoredEl.checked) p.set('unscored', 'me');
    return p;
  }

  function writeUrl() {
    const qs = listParams().toString();
    replaceAddress(qs ? `/?${qs}` : '/');
  }

  // Column headings sort by their column; again, the other way.
  function renderHeadings() {
    for (const th of document.querySelectorAll('th[data-sort]')) {
      const on = th.dataset.sort === sortEl.value;
      const natural = th.dataset.sort === 'title' ? 'ascending' : 'descending';
      const other = natural === 'ascending' ? 'descending' : 'ascending';
      th.setAttribute('aria-sort', on ? (reversed ? other : natural) : 'none');
    }
  }

  function row(r) {
    const canvas = h('canvas', { class: 'thumb', 'aria-hidden': 'true' });
    attach(canvas, decodePeaks(r.peaks));
    // The waveform plays the list from this row on.
    const play = h('button', { type: 'button', class: 'row-play', 'aria-label': `Play ${recordingTitle(r)} and the rest of the list` },
      canvas, svgIcon(ICONS.play, 'play-icon'));
    const tr = h('tr', { class: player.current()?.id === r.id ? 'recording playing' : 'recording', 'data-id': r.id },
      h('td', { class: 'cell-wave' }, play),
      h('td', { class: 'cell-title' },
        h('a', { class: 'title', href: `/recordings/${encodeURIComponent(r.id)}` }, recordingTitle(r)),
        r.source ? h('span', { class: 'tag' }, r.source) : null),
      h('td', { class: 'cell-date', 'data-label': 'Recorded' }, formatDate(r.recorded_date) || '—'),
      h('td', { class: 'cell-venue' }, r.venue || ''),
      h('td', { class: 'cell-dur', 'data-label': 'Length' }, formatDuration(r.duration_seconds)),
      h('td', { class: 'cell-avg' }),
      h('td', { class: 'scored' }),
      h('td', { class: 'my-score', 'data-label': 'Mine' }),
    );
    showScores(tr, r);
    return tr;
  }

  // showScores fills a row's score cells, in place when a score changes
  // (a new row would lose the keyboard focus of a member scoring).
  function showScores(tr, r) {
    const avg = h('span', { class: 'average' });
    renderAverage(avg, r.average);
    tr.querySelector('.cell-avg').replaceChildren(avg);
    tr.querySelector('.scored').textContent = scoredText(r.count, r.members ?? members);
    const mine = tr.querySelector('.my-score');
    mine.setAttribute('aria-label', r.my_score ? `My score: ${r.my_score} of 5` : 'Not scored by me');
    mine.replaceChildren(r.my_score
      ? h('span', { class: 'mine' }, starIcon(), String(r.my_score))
      : h('span', { class: 'muted' }, '—'));
  }

  function showEmpty() {
    const filtered = qEl.value.trim() || unscoredEl.checked || Object.values(filterEls).some((el) => el.value.trim());
    if (unscoredEl.checked && !qEl.value.trim()) {
      empty.replaceChildren(h('p', {}, 'You have scored every recording. Thank you!'));
    } else if (filtered) {
      empty.replaceChildren(h('p', {}, 'Nothing matches. Try other words, or clear the filters.'));
    } else {
      empty.replaceChildren(
        h('p', {}, 'The archive is empty so far.'),
        h('p', {}, h('a', { class: 'button primary', href: '/upload' }, 'Upload the first recording')));
    }
    empty.hidden = false;
    results.hidden = true;
  }

  // reset: a new query (filters changed); otherwise the next page.
  async function load(reset, announce = false) {
    inflight?.abort();
    inflight = new AbortController();
    const p = listParams();
    p.set('sort', sortParam());
    p.set('limit', '50');
    if (!reset && cursor) p.set('cursor', cursor);

    loadMore.disabled = true;
    results.setAttribute('aria-busy', 'true');
    let data;
    try {
      data = await api(`/api/recordings?${p}`, { signal: inflight.signal });
    } catch (err) {
      if (err.name === 'AbortError') return; // a newer query replaced this one
      say(err.message, 'error');
      loadMore.disabled = false;
      results.removeAttribute('aria-busy');
      return;
    }
    results.removeAttribute('aria-busy');
    loadMore.disabled = false;

    const list = data.recordings || [];
    if (reset) { rows.replaceChildren(); total = 0; }
    listActions.hidden = false;
    if (signal.aborted) return;
    members = data.members;
    if (reset) {
      shown = [];
      shownQuery = new URLSearchParams(p);
      shownQuery.delete('cursor');
    }
    shown.push(...list);
    const added = list.map(row);
    rows.append(...added);
    total += list.length;
    cursor = data.next_cursor || null;
    loadMore.hidden = !cursor;
    $('#caption').textContent = CAPTIONS[sortEl.value] + (reversed ? ', reversed' : '');
    renderHeadings();
    if (reset) {
      const n = data.total ?? 0;
      $('#count').textContent = n === 0 ? '' : `${n} recording${n === 1 ? '' : 's'}, ${data.unscored_by_me ?? 0} not yet scored by you`;
      welcome(n, data.unscored_by_me ?? 0);
      playAll.disabled = n === 0;
      scoreAll.disabled = !data.unscored_by_me;
    }
    $('#rank-note').hidden = sortEl.value !== 'score';

    if (total === 0) showEmpty();
    else { empty.hidden = true; results.hidden = false; }

    if (!reset && added.length) added[0].querySelector('a.title').focus(); // keyboard users continue where the new rows begin
    if (announce || !reset) {
      say(total === 0 ? 'No recordings found.' : `Showing ${total} recording${total === 1 ? '' : 's'}${cursor ? '; more can be loaded' : ''}.`);
    }
  }

  function refresh() {
    if (signal.aborted) return; // a late keystroke's timer, after leaving
    writeUrl();
    load(true, true);
  }

  sortEl.addEventListener('change', () => { reversed = false; refresh(); });
  for (const el of Object.values(filterEls)) el.addEventListener('input', debounce(refresh, 300));
  for (const b of document.querySelectorAll('button.sort')) {
    b.addEventListener('click', () => {
      if (sortEl.value === b.dataset.sort) reversed = !reversed;
      else { sortEl.value = b.dataset.sort; reversed = false; }
      refresh();
    });
  }
  unscoredEl.addEventListener('change', refresh);
  qEl.addEventListener('input', debounce(refresh, 300));
  $('#filters').addEventListener('submit', (e) => { e.preventDefault(); refresh(); });
  loadMore.addEventListener('click', () => load(false));

  // ---------- listening ----------

  const listActions = $('#list-actions');
  const playAll = $('#play-all');
  const scoreAll = $('#score-listen');

  // The list's query for the player, which fetches its later pages: the
  // list shown, even while a newer search is on its way.
  function playerQuery(extra = {}) {
    const p = new URLSearchParams(shownQuery);
    for (const [k, v] of Object.entries(extra)) p.set(k, v);
    return p;
  }

  playAll.addEventListener('click', () => player.playList(shown, { query: playerQuery(), cursor }));
  rows.addEventListener('click', (e) => {
    const b = e.target instanceof Element ? e.target.closest('button.row-play') : null;
    if (!b) return;
    const index = shown.findIndex((r) => r.id === b.closest('tr').dataset.id);
    if (index >= 0) player.playList(shown, { index, query: playerQuery(), cursor });
  });

  // Score as you listen: what of this list I have not scored, each after
  // the other, with the stars in the player.
  async function scoreAsYouListen() {
    const query = playerQuery({ unscored: 'me' });
    try {
      const data = await api(`/api/recordings?${query}`);
      if (signal.aborted) return;
      if (!data.recordings?.length) { say('You have scored every recording of this list.', 'success'); return; }
      player.playList(data.recordings, { query, cursor: data.next_cursor || null, scoring: true });
    } catch (err) {
      say(err.message, 'error');
    }
  }
  scoreAll.addEventListener('click', scoreAsYouListen);

  // A welcome while I have scored nothing yet (and nothing is filtered).
  function welcome(n, unscored) {
    const el = $('#welcome');
    const fresh = n > 0 && unscored === n && !listParams().toString();
    el.hidden = !fresh;
    if (!fresh) return;
    const who = me.user.display_name ? `Welcome, ${me.user.display_name}!` : 'Welcome!';
    const start = h('button', { type: 'button', class: 'primary' }, 'Score as you listen');
    start.addEventListener('click', scoreAsYouListen);
    el.replaceChildren(
      h('h2', {}, who),
      h('p', {}, `${n} recording${n === 1 ? ' is' : 's are'} waiting for your score. Listen to them one after the other and give each 1 to 5 stars as it plays; the archive orders itself by the band's scores.`),
      h('p', {}, start));
  }

  // The row playing is marked; a score given in the player shows at once.
  const markPlaying = () => {
    for (const tr of rows.children) tr.classList.toggle('playing', tr.dataset.id === player.current()?.id);
  };
  player.on('change', markPlaying, signal);
  player.on('score', ({ detail: r }) => {
    const i = shown.findIndex((x) => x.id === r.id);
    if (i < 0) return;
    shown[i] = { ...shown[i], my_score: r.my_score, average: r.average, count: r.count };
    const tr = rows.querySelector(`tr[data-id="${CSS.escape(r.id)}"]`);
    if (tr) showScores(tr, shown[i]);
  }, signal);

  readUrl();
  await load(true);
}
