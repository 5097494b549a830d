// recording.js: one recording (/recordings/{id}): player with a seekable
// waveform, my score, details with an edit form, download and delete.
import { api, onSessionEnd } from './api.js';
import { initNav } from './nav.js';
import { renderAverage, scoreControl } from './stars.js';
import { attach, decodePeaks } from './waveform.js';
import {
  $, say, formatClock, formatDate, formatDateTime, formatDuration, formatSize,
  scoredText, recordingTitle, showApiFieldError, clearFieldErrors,
} from './ui.js';

const id = decodeURIComponent(location.pathname.split('/')[2] || '');
const base = `/api/recordings/${encodeURIComponent(id)}`;
const scoreUrl = `/api/scores/${encodeURIComponent(id)}`;

const audio = $('#player');
const canvas = $('#waveform');
const editBtn = $('#edit');
const form = $('#edit-form');
const details = $('#details');
const editError = $('#edit-error');

let rec = null;
let wave = null;

const me = await initNav(null);

function notFound() {
  $('#title').textContent = 'Recording not found';
  document.title = 'Not found · bandarchive';
  $('#not-found').hidden = false;
}

// ---------- details ----------

function setText(sel, value) {
  $(sel).textContent = value || '—';
}

function renderDetails() {
  const title = recordingTitle(rec);
  $('#title').textContent = title;
  document.title = `${title} · bandarchive`;
  $('#subtitle').textContent = [formatDate(rec.recorded_date), rec.venue, rec.source].filter(Boolean).join(' · ');
  setText('#d-title', rec.title);
  setText('#recorded-date', formatDate(rec.recorded_date));
  setText('#venue', rec.venue);
  setText('#source', rec.source);
  setText('#notes', rec.notes);
  setText('#filename', rec.original_filename);
  setText('#format', [rec.format && rec.format.toUpperCase(), rec.mime_type].filter(Boolean).join(' · '));
  setText('#size', formatSize(rec.file_size_bytes));
  setText('#duration', rec.duration_seconds ? formatDuration(rec.duration_seconds) : 'Unknown');
  setText('#uploaded', `${formatDateTime(rec.uploaded_at)}${rec.uploaded_by_name ? ` by ${rec.uploaded_by_name}` : ''}`);
  setText('#loudness', loudnessText(rec.listening_copy));
}

// "−31 LUFS, quiet; peaks at −9.2 dBTP; range 14 LU", from the original
// as measured.
function loudnessText(c) {
  if (!c || c.loudness_lufs == null) return c && c.status === 'pending' ? 'Being measured…' : 'Not measured';
  const minus = (v, digits) => v.toFixed(digits).replace('-', '−');
  const l = c.loudness_lufs;
  const word = l <= -28 ? 'very quiet' : l <= -20 ? 'quiet' : l <= -12 ? 'moderate' : 'loud';
  return `${minus(l, 0)} LUFS, ${word}; peaks at ${minus(c.true_peak_dbtp, 1)} dBTP; range ${minus(c.loudness_range_lu, 0)} LU`;
}

// ---------- what plays: the listening copy, or the original ----------

// The listening copy (AAC, −16 LUFS) plays wherever it is ready; the
// original can be chosen where this browser plays its format.
let source = null; // 'listen' or 'audio'

function originalPlays() {
  return audio.canPlayType(rec.mime_type) !== '';
}

function play(which) {
  if (source === which) return;
  const at = audio.currentTime;
  const wasPlaying = !audio.paused;
  source = which;
  audio.src = `${base}/${which}`;
  if (at) audio.currentTime = at;
  if (wasPlaying) audio.play().catch(() => {});
  renderPlaying();
}

function renderPlaying() {
  const c = rec.listening_copy || { status: 'pending' };
  const sw = $('#switch-source');
  const text = $('#playing-text');
  sw.hidden = true;
  $('#reprocess').hidden = !(c.status === 'failed' && me.user.role === 'admin');
  if (c.status === 'ready') {
    text.textContent = source === 'listen'
      ? 'Playing the listening copy, evened out to −16 LUFS.'
      : 'Playing the original.';
    if (originalPlays()) {
      sw.textContent = source === 'listen' ? 'Play the original' : 'Play the listening copy';
      sw.hidden = false;
    }
  } else if (c.status === 'pending') {
    text.textContent = originalPlays()
      ? 'Playing the original; the listening copy is being made.'
      : 'The listening copy is being made; it plays here in a moment.';
  } else {
    text.textContent = `${c.error || 'Processing failed.'}${originalPlays() ? ' Playing the original.' : ''}`;
  }
}

$('#switch-source').addEventListener('click', () => play(source === 'listen' ? 'audio' : 'listen'));

$('#reprocess').addEventListener('click', async () => {
  try {
    rec = await api(`${base}/process`, { method: 'POST' });
    renderDetails();
    renderPlaying();
    watchProcessing();
  } catch (err) {
    say(err.message, 'error');
  }
});

// While the recording is processed, look again every few seconds: the
// waveform, the loudness and the copy appear without a reload.
function watchProcessing() {
  const started = Date.now();
  const look = async () => {
    if (Date.now() - started > 30 * 60 * 1000) return;
    let fresh;
    try { fresh = await api(base); } catch { return; }
    if (fresh.listening_copy.status === 'pending') { setTimeout(look, 3000); return; }
    // Only what processing changes: an edit saved meanwhile stays.
    rec = { ...rec, peaks: fresh.peaks, listening_copy: fresh.listening_copy, duration_seconds: fresh.duration_seconds };
    wave.setPeaks(decodePeaks(rec.peaks));
    renderDetails();
    if (rec.listening_copy.status === 'ready' && (source !== 'audio' || (audio.paused && !audio.currentTime))) {
      source = null;
      play('listen');
    }
    renderPlaying();
  };
  setTimeout(look, 3000);
}

// ---------- scores ----------

function renderScores() {
  renderAverage($('#average'), rec.average);
  $('#scored').textContent = scoredText(rec.count, rec.members ?? me.members);
  score.set(rec.my_score);
}

const score = scoreControl('my-score-label', async (n) => {
  try {
    const updated = n === null
      ? await api(scoreUrl, { method: 'DELETE' })
      : await api(scoreUrl, { method: 'PUT', json: { score: n } });
    rec = updated || (await api(base));
    renderScores();
    say(n === null ? 'Your score was cleared.' : `Saved: your score is ${n} of 5.`, 'success');
  } catch (err) {
    say(err.message, 'error');
  }
});
$('#my-score').append(score.el);

// ---------- player and waveform ----------

function duration() {
  return Number.isFinite(audio.duration) && audio.duration > 0 ? audio.duration : (rec.duration_seconds || 0);
}

function showPosition(t = audio.currentTime) {
  const d = duration();
  wave.setProgress(d ? t / d : 0);
  canvas.setAttribute('aria-valuemax', String(Math.round(d)));
  canvas.setAttribute('aria-valuenow', String(Math.round(t)));
  canvas.setAttribute('aria-valuetext', `${formatClock(t)} of ${formatClock(d)}`);
  $('#time-now').textContent = formatClock(t);
  $('#time-total').textContent = d ? formatClock(d) : '';
}

function seekTo(t) {
  const d = duration();
  if (!d) return;
  t = Math.max(0, Math.min(d, t));
  // Before metadata has loaded the browser keeps this as the start position.
  audio.currentTime = t;
  showPosition(t);
}

// Smooth progress while playing; timeupdate alone fires only ~4 times a second.
let frame = 0;
function tick() {
  showPosition();
  frame = audio.paused ? 0 : requestAnimationFrame(tick);
}
audio.addEventListener('play', () => { if (!frame) frame = requestAnimationFrame(tick); });
for (const ev of ['pause', 'ended', 'seeked', 'timeupdate', 'loadedmetadata', 'durationchange']) {
  audio.addEventListener(ev, () => showPosition());
}
audio.addEventListener('error', async () => {
  // Maybe the session ended: this call sends the person to sign in if so.
  try { await api('/api/me'); } catch { return; }
  say('The audio could not be played here. Try again later, or download the original.', 'error');
});

canvas.addEventListener('click', (e) => {
  const r = canvas.getBoundingClientRect();
  seekTo(((e.clientX - r.left) / r.width) * duration());
});

canvas.addEventListener('keydown', (e) => {
  const t = audio.currentTime;
  const moves = {
    ArrowLeft: t - 5, ArrowDown: t - 5, ArrowRight: t + 5, ArrowUp: t + 5,
    PageDown: t - 60, PageUp: t + 60, Home: 0, End: duration(),
  };
  if (!(e.key in moves)) return;
  e.preventDefault();
  seekTo(moves[e.key]);
});

// ---------- keys ----------

// Space, J, K, L, 1–5 and ? act on the player and the score, but never
// while the member types, nor with a modifier (the browser's own keys).
function typing(el) {
  return el instanceof HTMLElement && (el.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName));
}

document.addEventListener('keydown', (e) => {
  if (!rec || e.ctrlKey || e.metaKey || e.altKey || typing(e.target) || $('#keys').open) return;
  const key = e.key.length === 1 ? e.key.toLowerCase() : e.key;
  if (key === ' ' && e.target instanceof HTMLButtonElement) return; // Space presses the button
  const act = {
    ' ': () => (audio.paused ? audio.play().catch(() => {}) : audio.pause()),
    k: () => audio.pause(),
    j: () => seekTo(audio.currentTime - 10),
    l: () => seekTo(audio.currentTime + 10),
    '?': () => $('#keys').showModal(),
  }[key];
  if (act) {
    e.preventDefault();
    act();
    return;
  }
  if (/^[1-5]$/.test(key)) {
    e.preventDefault();
    document.querySelector(`#my-score button.star[data-score="${key}"]`)?.click();
  }
});

// ---------- links to a moment: /recordings/{id}#t=2:10 ----------

// startAt reads "#t=2:10", "#t=1:02:10" or "#t=130" (seconds); null when
// the address names no moment.
function startAt() {
  const m = /^#t=((?:\d+:){0,2}\d+(?:\.\d+)?)$/.exec(location.hash);
  if (!m) return null;
  return m[1].split(':').reduce((total, part) => total * 60 + Number(part), 0);
}

$('#copy-link').addEventListener('click', async () => {
  const link = `${location.origin}/recordings/${encodeURIComponent(id)}#t=${formatClock(audio.currentTime)}`;
  const field = $('#share-link');
  field.value = link;
  field.hidden = false;
  field.select();
  try {
    await navigator.clipboard.writeText(link);
    say('Link copied: it starts at ' + formatClock(audio.currentTime) + '.', 'success');
  } catch {
    say('Copy the link shown below the player.', 'info');
  }
});

window.addEventListener('hashchange', () => {
  const t = startAt();
  if (t !== null) seekTo(t);
});

// ---------- edit ----------

// An edit the session's end interrupts is kept in this browser and put
// back in the form after signing in again (for a day).
const draftKey = `bandarchive:draft:recording:${id}`;
const editFields = ['title', 'recorded_date', 'venue', 'source', 'notes'];
const fieldInput = (f) => $(`#edit-${f.replace('_', '-')}`);

onSessionEnd(() => {
  if (form.hidden) return;
  const values = Object.fromEntries(editFields.map((f) => [f, fieldInput(f).value]));
  localStorage.setItem(draftKey, JSON.stringify({ at: Date.now(), values }));
});

function takeDraft() {
  const raw = localStorage.getItem(draftKey);
  localStorage.removeItem(draftKey);
  try {
    const d = JSON.parse(raw);
    return d && Date.now() - d.at < 24 * 3600 * 1000 ? d.values : null;
  } catch {
    return null;
  }
}

function openEdit(draft = null) {
  $('#edit-title').value = rec.title || '';
  $('#edit-recorded-date').value = rec.recorded_date || '';
  $('#edit-venue').value = rec.venue || '';
  $('#edit-source').value = rec.source || '';
  $('#edit-notes').value = rec.notes || '';
  if (draft) for (const f of editFields) if (typeof draft[f] === 'string') fieldInput(f).value = draft[f];
  editError.textContent = '';
  clearFieldErrors(form);
  form.hidden = false;
  details.hidden = true;
  editBtn.setAttribute('aria-expanded', 'true');
  editBtn.disabled = true;
  $('#edit-title').focus();
}

function closeEdit() {
  form.hidden = true;
  details.hidden = false;
  editBtn.setAttribute('aria-expanded', 'false');
  editBtn.disabled = false;
  editBtn.focus();
}

editBtn.addEventListener('click', () => openEdit());
$('#cancel-edit').addEventListener('click', closeEdit);
form.addEventListener('keydown', (e) => { if (e.key === 'Escape') closeEdit(); });

form.addEventListener('submit', async (e) => {
  e.preventDefault();
  editError.textContent = '';
  clearFieldErrors(form);
  const save = $('#save');
  save.disabled = true;
  try {
    rec = await api(base, {
      method: 'PATCH',
      json: {
        title: $('#edit-title').value.trim(),
        recorded_date: $('#edit-recorded-date').value || null, // empty clears the date
        venue: $('#edit-venue').value.trim(),
        source: $('#edit-source').value.trim(),
        notes: $('#edit-notes').value.trim(),
      },
    });
    renderDetails();
    closeEdit();
    say('Details saved.', 'success');
  } catch (err) {
    // When the archive names the field that is wrong, the message goes
    // beside that field and the focus to it; otherwise above the form.
    if (!showApiFieldError(form, err)) editError.textContent = err.message;
  } finally {
    save.disabled = false;
  }
});

// ---------- delete ----------

$('#delete').addEventListener('click', async () => {
  const ok = confirm(`Delete “${recordingTitle(rec)}” for everyone? The file and all its scores will be gone. This cannot be undone.`);
  if (!ok) return;
  try {
    await api(base, { method: 'DELETE' });
    location.assign('/');
  } catch (err) {
    say(err.message, 'error');
  }
});

// ---------- load ----------

try {
  rec = await api(base);
} catch (err) {
  if (err.status === 404 || err.status === 400) notFound();
  else { $('#title').textContent = 'Could not load this recording'; say(err.message, 'error'); }
}

if (rec) {
  $('#content').hidden = false;
  wave = attach(canvas, decodePeaks(rec.peaks));
  play(rec.listening_copy.status === 'ready' || !originalPlays() ? 'listen' : 'audio');
  if (rec.listening_copy.status === 'pending') watchProcessing();
  $('#download').href = `${base}/audio?download=1`;
  $('#delete').hidden = !(me.user.role === 'admin' || me.user.id === rec.uploaded_by);
  editBtn.setAttribute('aria-expanded', 'false');
  editBtn.setAttribute('aria-controls', 'edit-form');
  renderDetails();
  renderScores();
  showPosition(0);
  const t = startAt();
  if (t !== null) seekTo(t);
  const draft = takeDraft();
  if (draft) {
    openEdit(draft);
    say('Your unsaved changes were kept while you signed in again: check them and save.', 'info');
  }
}
