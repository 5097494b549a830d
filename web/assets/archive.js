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
  sortEl.value = SORTS.includes(p.get('sort')) ? p.get('sort') : 'score';
  qEl.value = p.get('q') || '';
  unscoredEl.checked = p.get('unscored') === 'me';
}

function writeUrl() {
  const p = new URLSearchParams();
  if (sortEl.value !== 'score') p.set('sort', sortEl.value);
  if (qEl.value.trim()) p.set('q', qEl.value.trim());
  if (unscoredEl.checked) p.set('unscored', 'me');
  const qs = p.toString();
  history.replaceState(null, '', qs ? `/?${qs}` : '/');
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
  const filtered = qEl.value.trim() || unscoredEl.checked;
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
  const p = new URLSearchParams({ sort: sortEl.value, limit: '50' });
  const q = qEl.value.trim();
  if (q) p.set('q', q);
  if (unscoredEl.checked) p.set('unscored', 'me');
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
  $('#caption').textContent = CAPTIONS[sortEl.value];
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

sortEl.addEventListener('change', refresh);
unscoredEl.addEventListener('change', refresh);
qEl.addEventListener('input', debounce(refresh, 300));
$('#filters').addEventListener('submit', (e) => { e.preventDefault(); refresh(); });
loadMore.addEventListener('click', () => load(false));
