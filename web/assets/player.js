// player.js: the one player of the member pages, docked at the bottom of
// every page. It keeps playing while the member moves around the archive
// (router.js swaps the page above it), plays a list in order ("Play all"),
// shows the stars of what plays when scoring as one listens, answers the
// keys and the lock screen (Media Session), and after a reload comes back
// paused where it was.
import { api, recordingPath } from './api.js';
import { scrubber } from './scrubber.js';
import { scoreControl } from './stars.js';
import { columnPeaks, decodePeaks } from './waveform.js';
import { h, svgIcon, formatClock, formatDate, recordingTitle } from './ui.js';

const STATE = 'bandarchive:player'; // sessionStorage: this tab's player
const RATES = [0.75, 1, 1.25, 1.5, 2];
const SKIP = 10; // seconds, for J/L, the ±10 buttons and the lock screen

const events = new EventTarget();
let rec = null; // the recording in the player
let source = null; // 'listen' (the listening copy) or 'audio' (the original)
// The list "Play all" plays: { items, index, query, cursor, scoring }.
// query and cursor fetch the list's next page when the items run out.
let queue = null;
let scoring = false; // "Score as you listen": the stars show in the dock
let shownOnPage = null; // the recording whose page is shown, with its own waveform
let appName = 'bandarchive'; // the archive's name (APP_NAME), the lock screen's artist

// ---------- the dock ----------

// The dock's icons, as paths of a 24×24 box.
export const ICONS = {
  play: 'M8 5v14l11-7z',
  pause: 'M6 5h4v14H6zm8 0h4v14h-4z',
  prev: 'M6 6h2v12H6zm3.5 6L18 18V6z',
  next: 'M16 6h2v12h-2zM6 18l8.5-6L6 6z',
};
const icon = (name) => svgIcon(ICONS[name]);

const button = (label, content, cls = '') =>
  h('button', { type: 'button', class: `dock-btn ${cls}`, 'aria-label': label, title: label }, content);

const audio = h('audio', { id: 'player', preload: 'metadata' });
const titleLink = h('a', { class: 'dock-title', href: '/' });
const sub = h('span', { class: 'dock-sub' });
const playBtn = button('Play', icon('play'), 'dock-play');
const backBtn = button(`Back ${SKIP} seconds`, `−${SKIP}`);
const onBtn = button(`On ${SKIP} seconds`, `+${SKIP}`);
const prevBtn = button('Previous recording', icon('prev'));
const nextBtn = button('Next recording', icon('next'));
const speed = h('select', { class: 'dock-speed', 'aria-label': 'Speed', title: 'Speed' },
  RATES.map((r) => h('option', { value: String(r), selected: r === 1 }, `${r}×`)));
const canvas = h('canvas', {
  class: 'dock-wave', role: 'slider', tabindex: '0', 'aria-label': 'Seek in the recording playing',
  'aria-valuemin': '0', 'aria-valuemax': '0', 'aria-valuenow': '0', 'aria-valuetext': '0:00',
});
const wave = h('div', { class: 'scrub dock-scrub' }, canvas);
const clock = h('span', { class: 'dock-time', 'aria-hidden': 'true' });
const scoreToggle = h('button', { type: 'button', class: 'dock-btn dock-score-toggle', 'aria-pressed': 'false' },
  'Score', h('span', { class: 'dock-long' }, ' as you listen'));
const stars = scoreControl('dock-score-label', (n) => setScore(rec.id, n));
const scoreBox = h('div', { class: 'dock-score', hidden: true },
  h('span', { id: 'dock-score-label', class: 'visually-hidden' }, 'My score for the recording playing'), stars.el);
const closeBtn = button('Close the player', '×', 'quiet dock-close');
const status = h('p', { class: 'visually-hidden', role: 'status', 'aria-live': 'polite' });

const dock = h('section', { id: 'dock', class: 'dock', 'aria-label': 'Now playing', hidden: true },
  h('div', { class: 'dock-inner' },
    h('div', { class: 'dock-now' }, titleLink, sub),
    h('div', { class: 'dock-controls' }, prevBtn, backBtn, playBtn, onBtn, nextBtn, speed),
    wave, clock,
    h('div', { class: 'dock-extra' }, scoreToggle, scoreBox),
    closeBtn),
  audio, status);

const bar = scrubber(canvas, null, { time: () => audio.currentTime, duration, seek });

// The page leaves room for the dock as tall as it is at this width.
new ResizeObserver(() => {
  if (dock.offsetHeight) document.documentElement.style.setProperty('--dock-height', `${dock.offsetHeight}px`);
}).observe(dock);

// ---------- the keys dialog ----------

const kbd = (k) => h('kbd', {}, k);
const keys = h('dialog', { id: 'keys', 'aria-labelledby': 'keys-heading' },
  h('h2', { id: 'keys-heading' }, 'Keys'),
  h('dl', { class: 'keys' }, [
    [[kbd('Space')], 'Play or pause'],
    [[kbd('K')], 'Pause'],
    [[kbd('J'), ' / ', kbd('L')], `Back / on ${SKIP} seconds`],
    [[kbd('←'), ' ', kbd('→')], 'Back / on 5 seconds, on a waveform (Page Up/Page Down: a minute; Home/End: either end)'],
    [[kbd('1'), ' … ', kbd('5')], 'Score the recording playing'],
    [[kbd('?')], 'This list'],
  ].map(([k, what]) => [h('dt', {}, k), h('dd', {}, what)])),
  h('p', { class: 'muted' }, 'None of them work while you type in a field.'),
  h('form', { method: 'dialog' }, h('button', { type: 'submit', class: 'primary' }, 'Close')));

// ---------- what plays ----------

function duration() {
  return Number.isFinite(audio.duration) && audio.duration > 0 ? audio.duration : (rec?.duration_seconds || 0);
}

function originalPlays(r) {
  return Boolean(r.mime_type) && audio.canPlayType(r.mime_type) !== '';
}

// The listening copy (AAC, −16 LUFS) wherever it is ready; else the
// original where this browser plays it; else the copy, which comes soon.
function choose(r) {
  return r.listening_copy?.status === 'ready' || !originalPlays(r) ? 'listen' : 'audio';
}

function load(r, { at = 0, autoplay = false, which = null } = {}) {
  rec = r;
  source = which || choose(r);
  audio.src = `${recordingPath(r.id)}/${source}`;
  audio.defaultPlaybackRate = audio.playbackRate = Number(speed.value);
  // Before the metadata has loaded the browser keeps this as the start.
  if (at > 0) audio.currentTime = at;
  bar.setPeaks(decodePeaks(r.peaks));
  // A list kept across a reload has no waveforms (they would not fit):
  // the archive's fresh copy brings it.
  if (!r.peaks) api(recordingPath(r.id)).then((fresh) => player.refresh(fresh), () => {});
  render();
  mediaMetadata();
  if (autoplay) play();
  emit('change');
  save();
}

function play() {
  audio.play().catch((err) => {
    if (err.name === 'NotAllowedError') announce('Press play to listen.');
  });
}

function seek(t) {
  if (!rec) return;
  const d = duration();
  audio.currentTime = Math.max(0, d ? Math.min(d, t) : t);
  tick();
}

function toggle() {
  if (!rec) return;
  if (audio.paused) play();
  else audio.pause();
}

async function next() {
  const q = queue;
  if (!q) return;
  if (q.index + 1 >= q.items.length && q.cursor) {
    const ok = await more(q);
    if (queue !== q) return; // closed, or another list started meanwhile
    if (!ok) return;
  }
  if (q.index + 1 >= q.items.length) {
    announce('That was the last recording of the list.');
    return;
  }
  q.index++;
  load(q.items[q.index], { autoplay: true });
  announce(`Now playing: ${recordingTitle(rec)}, ${q.index + 1} of ${q.items.length}.`);
}

function prev() {
  if (!queue || queue.index === 0 || audio.currentTime > 3) { seek(0); return; }
  queue.index--;
  load(queue.items[queue.index], { autoplay: true });
}

// more fetches the rest of the list being played, once however often it
// is asked. The cursor starts after the last row fetched, so a list that
// shrinks as I score ("not yet scored by me") skips nothing; what is
// queued already (a recording whose score moved it on) is not queued
// again. False when it failed.
let fetching = null;
function more(q) {
  fetching ||= (async () => {
    const queued = new Set(q.items.map((r) => r.id));
    let cursor = q.cursor;
    try {
      for (;;) {
        const p = new URLSearchParams(q.query);
        if (cursor) p.set('cursor', cursor);
        const data = await api(`/api/recordings?${p}`);
        const fresh = (data.recordings || []).filter((r) => !queued.has(r.id));
        cursor = data.next_cursor || null;
        if (fresh.length || !cursor) {
          q.items.push(...fresh);
          q.cursor = cursor;
          return true;
        }
      }
    } catch {
      announce('The rest of the list could not be fetched. Check your connection and press next again.');
      return false;
    } finally {
      fetching = null;
    }
  })();
  return fetching;
}

/**
 * playList(items, { index, query, cursor, scoring }) plays items from
 * index on, each after the other; query (the list's /api/recordings
 * parameters) and cursor fetch more when they run out. scoring shows the
 * stars of what plays.
 */
function playList(items, { index = 0, query = '', cursor = null, scoring: withStars = false } = {}) {
  if (!items.length) return;
  queue = { items: items.slice(), index, query: String(query), cursor };
  setScoring(withStars || scoring);
  load(queue.items[index], { autoplay: true });
}

function close() {
  const hadFocus = dock.contains(document.activeElement);
  audio.pause();
  audio.removeAttribute('src');
  audio.load();
  rec = null;
  queue = null;
  dock.hidden = true;
  document.body.classList.remove('has-dock');
  sessionStorage.removeItem(STATE);
  setScoring(false);
  if ('mediaSession' in navigator) {
    navigator.mediaSession.metadata = null;
    navigator.mediaSession.setActionHandler('previoustrack', null);
    navigator.mediaSession.setActionHandler('nexttrack', null);
  }
  if (hadFocus) document.getElementById('main')?.focus();
  emit('change');
}

// forget closes the player for good in this tab: the member signs out.
let forgotten = false;
export function forget() {
  close();
  forgotten = true;
}

// ---------- scores ----------

/**
 * setScore(id, n) saves my score of a recording, 1..5 or null to clear,
 * and tells the dock and the page (a "score" event with the recording as
 * the API returns it). Returns that recording.
 */
export async function setScore(id, n, { quiet = false } = {}) {
  const url = `/api/scores/${encodeURIComponent(id)}`;
  let updated;
  try {
    updated = n === null ? await api(url, { method: 'DELETE' }) : await api(url, { method: 'PUT', json: { score: n } });
    updated = updated || (await api(recordingPath(id)));
  } catch (err) {
    announce(err.message);
    throw err;
  }
  const fresh = ({ my_score, average, count }) => ({ my_score, average, count });
  if (rec && rec.id === id) Object.assign(rec, fresh(updated));
  for (const item of queue?.items || []) if (item.id === id) Object.assign(item, fresh(updated));
  render();
  emit('score', updated);
  if (!quiet) announce(n === null ? 'Your score was cleared.' : `Saved: your score of “${recordingTitle(updated)}” is ${n} of 5.`);
  save();
  return updated;
}

function setScoring(on) {
  scoring = on;
  scoreToggle.setAttribute('aria-pressed', String(on));
  scoreBox.hidden = !on;
}

// ---------- showing it ----------

function render() {
  if (!rec) return;
  dock.hidden = false;
  document.body.classList.add('has-dock');
  titleLink.textContent = recordingTitle(rec);
  titleLink.href = `/recordings/${encodeURIComponent(rec.id)}`;
  const where = queue ? `${queue.index + 1} of ${queue.items.length}${queue.cursor ? '+' : ''}` : null;
  sub.textContent = [formatDate(rec.recorded_date), rec.venue, where].filter(Boolean).join(' · ');
  prevBtn.hidden = nextBtn.hidden = !queue;
  dock.classList.toggle('on-page', shownOnPage === rec.id);
  stars.set(rec.my_score);
  renderPlaying();
  tick();
}

function renderPlaying() {
  const playing = !audio.paused;
  playBtn.replaceChildren(icon(playing ? 'pause' : 'play'));
  playBtn.setAttribute('aria-label', playing ? 'Pause' : 'Play');
  playBtn.title = playing ? 'Pause' : 'Play';
  if ('mediaSession' in navigator) navigator.mediaSession.playbackState = playing ? 'playing' : 'paused';
}

// tick shows the position: every frame while playing, once otherwise.
let frame = 0;
function tick() {
  bar.update();
  const d = duration();
  const text = `${formatClock(audio.currentTime)} / ${formatClock(d)}`;
  if (clock.textContent !== text) clock.textContent = text;
  emit('time');
  cancelAnimationFrame(frame);
  frame = audio.paused ? 0 : requestAnimationFrame(tick);
}

function announce(message) {
  status.textContent = '';
  setTimeout(() => { status.textContent = message; }, 60);
}

function emit(type, detail = null) {
  events.dispatchEvent(new CustomEvent(type, { detail }));
}

// ---------- the lock screen ----------

function mediaMetadata() {
  if (!('mediaSession' in navigator) || !rec) return;
  navigator.mediaSession.metadata = new MediaMetadata({
    title: recordingTitle(rec),
    artist: appName,
    album: [formatDate(rec.recorded_date), rec.venue].filter(Boolean).join(' · '),
    artwork: [{ src: artwork(rec), sizes: '512x512', type: 'image/png' }],
  });
  const ms = navigator.mediaSession;
  ms.setActionHandler('previoustrack', queue && queue.index > 0 ? prev : null);
  ms.setActionHandler('nexttrack', queue ? next : null);
}

// artwork draws the recording's waveform on a square, for the lock screen.
function artwork(r) {
  const c = document.createElement('canvas');
  c.width = c.height = 512;
  const g = c.getContext('2d');
  g.fillStyle = '#a4461c';
  g.fillRect(0, 0, 512, 512);
  g.fillStyle = '#fdf6ee';
  const peaks = decodePeaks(r.peaks) || new Uint8Array(64).fill(8);
  columnPeaks(peaks, 64).forEach((v, i) => {
    const amp = Math.max(2, (v / 255) * 180);
    g.fillRect(32 + i * 7, 256 - amp, 5, amp * 2);
  });
  return c.toDataURL('image/png');
}

function positionState() {
  const d = duration();
  if (!('mediaSession' in navigator) || !d || !navigator.mediaSession.setPositionState) return;
  try {
    navigator.mediaSession.setPositionState({ duration: d, playbackRate: audio.playbackRate, position: Math.min(audio.currentTime, d) });
  } catch { /* a position the browser finds out of range: the next event corrects it */ }
}

if ('mediaSession' in navigator) {
  const handlers = {
    play, pause: () => audio.pause(), stop: () => audio.pause(),
    seekbackward: (d) => seek(audio.currentTime - (d.seekOffset || SKIP)),
    seekforward: (d) => seek(audio.currentTime + (d.seekOffset || SKIP)),
    seekto: (d) => seek(d.seekTime),
  };
  for (const [action, fn] of Object.entries(handlers)) {
    try { navigator.mediaSession.setActionHandler(action, fn); } catch { /* not supported here */ }
  }
}

// ---------- this tab's player, kept across reloads ----------

let savedAt = 0;
function save() {
  if (!rec || forgotten) return;
  savedAt = Date.now();
  // The list's waveforms stay behind: a long list would not fit.
  const list = queue && { ...queue, items: queue.items.map(({ peaks, ...r }) => r) };
  const state = { rec, source, at: audio.currentTime, rate: Number(speed.value), scoring, queue: list };
  try { sessionStorage.setItem(STATE, JSON.stringify(state)); } catch { /* full: the player just starts afresh */ }
}

// restore puts back the recording this tab was playing, paused where it
// was: a reload must not lose the member's place. It uses the copy kept
// at once, and takes the archive's fresh one when it comes.
export function restore(me) {
  if (me?.app_name) appName = me.app_name;
  document.body.append(dock, keys);
  let state;
  try { state = JSON.parse(sessionStorage.getItem(STATE)); } catch { return; }
  if (!state || !state.rec || rec) return;
  speed.value = String(RATES.includes(state.rate) ? state.rate : 1);
  queue = state.queue || null;
  setScoring(Boolean(state.scoring));
  load(state.rec, { at: state.at, which: state.source });
  api(recordingPath(state.rec.id)).then(
    (fresh) => player.refresh(fresh),
    (err) => { if (err.status === 404 && rec?.id === state.rec.id) close(); });
}

// ---------- wiring ----------

playBtn.addEventListener('click', toggle);
backBtn.addEventListener('click', () => seek(audio.currentTime - SKIP));
onBtn.addEventListener('click', () => seek(audio.currentTime + SKIP));
prevBtn.addEventListener('click', prev);
nextBtn.addEventListener('click', next);
closeBtn.addEventListener('click', close);
scoreToggle.addEventListener('click', () => { setScoring(!scoring); save(); });
speed.addEventListener('change', () => {
  audio.defaultPlaybackRate = audio.playbackRate = Number(speed.value);
  save();
});

for (const ev of ['play', 'pause']) {
  audio.addEventListener(ev, () => { renderPlaying(); tick(); positionState(); save(); emit('state'); });
}
for (const ev of ['seeked', 'loadedmetadata', 'durationchange', 'ratechange']) {
  audio.addEventListener(ev, () => { tick(); positionState(); });
}
audio.addEventListener('timeupdate', () => {
  if (audio.paused) tick();
  if (Date.now() - savedAt > 5000) save();
});
audio.addEventListener('ended', () => { renderPlaying(); if (queue) next(); });
audio.addEventListener('error', async () => {
  const r = rec;
  const src = audio.getAttribute('src');
  if (!r || !src) return;
  // Maybe the session ended: this call sends the person to sign in if so.
  let offline = false;
  try { await api('/api/me'); } catch (err) { if (err.status === 401) return; offline = err.status === 0; }
  if (rec !== r || audio.getAttribute('src') !== src) return; // another one plays by now
  if (!offline && source === 'listen' && r.listening_copy?.status !== 'ready' && originalPlays(r)) {
    load(r, { at: audio.currentTime, autoplay: !audio.paused, which: 'audio' });
    return;
  }
  announce(offline
    ? 'The archive cannot be reached. Check your connection, then press play.'
    : `“${recordingTitle(r)}” could not be played here. Try again later, or download the original.`);
  emit('error');
  if (queue && !offline) next(); // a list goes on past what cannot play
});
window.addEventListener('pagehide', save);

// Space, J, K, L, 1–5 and ? act on the player, but never while the member
// types, nor with a modifier (the browser's own keys), nor under a dialog.
function typing(el) {
  return el instanceof HTMLElement && (el.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName));
}

document.addEventListener('keydown', (e) => {
  if (e.ctrlKey || e.metaKey || e.altKey || typing(e.target) || document.querySelector('dialog[open]')) return;
  const key = e.key.length === 1 ? e.key.toLowerCase() : e.key;
  if (key === '?') { e.preventDefault(); keys.showModal(); return; }
  if (!rec) return;
  // Space presses what has the focus, if that is pressable.
  if (key === ' ' && e.target instanceof Element && e.target.closest('button, a[href], summary, [role=button], [role=checkbox], [role=switch]')) return;
  const act = {
    ' ': toggle,
    k: () => audio.pause(),
    j: () => seek(audio.currentTime - SKIP),
    l: () => seek(audio.currentTime + SKIP),
  }[key];
  if (act) { e.preventDefault(); act(); return; }
  if (/^[1-5]$/.test(key) && !e.repeat) {
    e.preventDefault();
    setScore(rec.id, Number(key)).catch(() => {});
  }
});

// ---------- for the pages ----------

export const player = {
  // load puts one recording in the player; a list being played ends,
  // unless it is the list's own recording.
  load(r, options) {
    if (queue && queue.items[queue.index]?.id !== r.id) queue = null;
    load(r, options);
  },
  playList,
  play,
  toggle,
  seek,
  next,
  current: () => rec,
  time: () => audio.currentTime,
  duration,
  paused: () => audio.paused,
  source: () => source,
  originalPlays: (r) => originalPlays(r),
  inList: () => Boolean(queue),
  // refresh takes a newer copy of the recording in the player (its
  // listening copy ready, say) without interrupting it.
  // A copy that has just become ready replaces what was tried before: the
  // copy that was not there yet, or an original not started.
  refresh(r) {
    if (!rec || rec.id !== r.id) return;
    const copyWasReady = rec.listening_copy?.status === 'ready';
    Object.assign(rec, r);
    if (!copyWasReady && r.listening_copy?.status === 'ready' && (source === 'listen' || (audio.paused && !audio.currentTime))) {
      load(rec, { at: audio.currentTime, autoplay: !audio.paused, which: 'listen' });
      return;
    }
    render();
    mediaMetadata();
  },
  // useSource switches between the copy and the original, in place.
  useSource(which) {
    if (!rec || which === source) return;
    load(rec, { at: audio.currentTime, autoplay: !audio.paused, which });
  },
  // showingPage tells the dock that the page shows this recording's own
  // waveform (null: none), so the dock does not show a second one.
  showingPage(id) {
    shownOnPage = id;
    dock.classList.toggle('on-page', Boolean(rec) && shownOnPage === rec.id);
  },
  // on(type, fn, signal) listens for "change" (another recording or
  // source), "time", "state" (play, pause), "score" and "error".
  on(type, fn, signal) {
    events.addEventListener(type, fn, { signal });
  },
};
