// archive.js: the archive and ranking (/). Filters live in the URL so that
// reloading or going back keeps them.
import { api } from './api.js';
import { initNav } from './nav.js';
import { renderAverage, starIcon } from './stars.js';
import { attach, decodePeaks } from './waveform.js';
import { $, h, say, debounce, formatDate, formatDuration, scoredText, recordingTitle } from './ui.js';

const SORTS = ['score', 'recorded', 'uploaded', 'title'];
const CAPTIONS = {
  score: 'Recordings, best scored first',
  recorded: 'Recordings by recorded date',
  uploaded: 'Recordings, recently uploaded first',
  title: 'Recordings by title',
};

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
  history.replaceState(null, '', qs ? `/?${qs}` : '/');
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

function row(r, members) {
  const canvas = h('canvas', { class: 'thumb', 'aria-hidden': 'true' });
  attach(canvas, decodePeaks(r.peaks));
  const avg = h('span', { class: 'average' });
  renderAverage(avg, r.average);
  const mine = r.my_score
    ? h('span', { class: 'mine' }, starIcon(), String(r.my_score))
    : h('span', { class: 'muted' }, '—');
  return h('tr', { class: 'recording', 'data-id': r.id },
    h('td', { class: 'cell-wave' }, canvas),
    h('td', { class: 'cell-title' },
      h('a', { class: 'title', href: `/recordings/${encodeURIComponent(r.id)}` }, recordingTitle(r)),
      r.source ? h('span', { class: 'tag' }, r.source) : null),
    h('td', { class: 'cell-date', 'data-label': 'Recorded' }, formatDate(r.recorded_date) || '—'),
    h('td', { class: 'cell-venue' }, r.venue || ''),
    h('td', { class: 'cell-dur', 'data-label': 'Length' }, formatDuration(r.duration_seconds)),
    h('td', { class: 'cell-avg' }, avg),
    h('td', { class: 'scored' }, scoredText(r.count, r.members ?? members)),
    h('td', { class: 'my-score', 'data-label': 'Mine', 'aria-label': r.my_score ? `My score: ${r.my_score} of 5` : 'Not scored by me' }, mine),
  );
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
  const added = list.map((r) => row(r, data.members));
  rows.append(...added);
  total += list.length;
  cursor = data.next_cursor || null;
  loadMore.hidden = !cursor;
  $('#caption').textContent = CAPTIONS[sortEl.value] + (reversed ? ', reversed' : '');
  renderHeadings();
  if (reset) {
    const n = data.total ?? 0;
    $('#count').textContent = n === 0 ? '' : `${n} recording${n === 1 ? '' : 's'}, ${data.unscored_by_me ?? 0} not yet scored by you`;
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
  writeUrl();
  load(true, true);
}

readUrl();
await initNav('archive');
load(true);

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
