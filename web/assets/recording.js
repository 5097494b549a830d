// recording.js: one recording (/recordings/{id}): its waveform as the seek
// bar of the player, my score, details with an edit form, download and
// delete. The player itself is the dock's (player.js): this page plays
// the recording there, so it keeps playing when the member moves on.
import { api, onSessionEnd, recordingPath } from './api.js';
import { player, setScore } from './player.js';
import { navigate } from './router.js';
import { scrubber } from './scrubber.js';
import { renderAverage, scoreControl } from './stars.js';
import { decodePeaks } from './waveform.js';
import {
  say as sayOnPage, formatClock, formatDate, formatDateTime, formatDuration, formatSize,
  scoredText, recordingTitle, showApiFieldError, clearFieldErrors,
} from './ui.js';

export default async function mount({ main, me, signal }) {
  // This page's elements, and its messages, never the next page's: work
  // that ends after the member has moved on writes nowhere.
  const $ = (sel) => main.querySelector(sel);
  const say = (...args) => { if (!signal.aborted) sayOnPage(...args); };
  const id = decodeURIComponent(location.pathname.split('/')[2] || '');
  const base = recordingPath(id);

  const canvas = $('#waveform');
  const editBtn = $('#edit');
  const form = $('#edit-form');
  const details = $('#details');
  const editError = $('#edit-error');

  let rec = null;
  let wave = null;
  // Where this page's waveform stands while another recording plays.
  let parked = 0;

  const mine = () => player.current()?.id === id;

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

  // ---------- what plays: the listening copy, or the original ----------

  function renderPlaying() {
    const c = rec.listening_copy || { status: 'pending' };
    const sw = $('#switch-source');
    const text = $('#playing-text');
    const source = mine() ? player.source() : null;
    const plays = player.originalPlays(rec);
    sw.hidden = true;
    $('#reprocess').hidden = !(c.status === 'failed' && me.user.role === 'admin');
    const playing = mine() && !player.paused();
    $('#play').textContent = playing ? 'Pause' : mine() && player.time() > 0 ? 'Resume' : 'Play';
    if (c.status === 'ready') {
      text.textContent = source === 'audio' ? 'Plays the original.' : 'Plays the listening copy, evened out to −16 LUFS.';
      if (plays && source) {
        sw.textContent = source === 'listen' ? 'Play the original' : 'Play the listening copy';
        sw.hidden = false;
      }
    } else if (c.status === 'pending') {
      text.textContent = plays
        ? 'Plays the original; the listening copy is being made.'
        : 'The listening copy is being made; it plays here in a moment.';
    } else {
      text.textContent = `${c.error || 'Processing failed.'}${plays ? ' Plays the original.' : ''}`;
    }
  }

  $('#switch-source').addEventListener('click', () => {
    player.useSource(player.source() === 'listen' ? 'audio' : 'listen');
    renderPlaying();
  });

  $('#reprocess').addEventListener('click', async () => {
    try {
      rec = await api(`${base}/process`, { method: 'POST' });
      if (signal.aborted) return;
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
    let timer = 0;
    signal.addEventListener('abort', () => clearTimeout(timer));
    const look = async () => {
      if (signal.aborted || Date.now() - started > 30 * 60 * 1000) return;
      let fresh;
      try { fresh = await api(base); } catch { return; }
      if (signal.aborted) return;
      if (fresh.listening_copy.status === 'pending') { timer = setTimeout(look, 3000); return; }
      // Only what processing changes: an edit saved meanwhile stays.
      rec = { ...rec, peaks: fresh.peaks, listening_copy: fresh.listening_copy, duration_seconds: fresh.duration_seconds };
      wave.setPeaks(decodePeaks(rec.peaks));
      renderDetails();
      player.refresh(rec);
      renderPlaying();
    };
    timer = setTimeout(look, 3000);
  }

  // ---------- scores ----------

  function renderScores() {
    renderAverage($('#average'), rec.average);
    $('#scored').textContent = scoredText(rec.count, rec.members ?? me.members);
    score.set(rec.my_score);
  }

  const score = scoreControl('my-score-label', async (n) => {
    try {
      await setScore(id, n, { quiet: true }); // the "score" event below shows it
      say(n === null ? 'Your score was cleared.' : `Saved: your score is ${n} of 5.`, 'success');
    } catch (err) {
      say(err.message, 'error');
    }
  });
  $('#my-score').append(score.el);
  player.on('score', ({ detail: r }) => {
    if (r.id !== id || !rec) return;
    rec = { ...rec, my_score: r.my_score, average: r.average, count: r.count };
    renderScores();
  }, signal);

  // ---------- the waveform: this page's seek bar ----------

  function duration() {
    return mine() ? player.duration() : (rec.duration_seconds || 0);
  }

  // Clicking the waveform of a recording that is not in the player puts
  // it there and plays; keys only move where it will start.
  function seek(t, how) {
    if (mine()) player.seek(t);
    else if (how === 'key') { parked = t; showPosition(); }
    else { parked = t; player.load(rec, { at: t, autoplay: true }); }
  }

  $('#play').addEventListener('click', () => {
    if (mine()) player.toggle();
    else player.load(rec, { at: parked, autoplay: true });
  });

  function showPosition() {
    if (!wave) return;
    wave.update();
    const t = mine() ? player.time() : parked;
    $('#time-now').textContent = formatClock(t);
    const d = duration();
    $('#time-total').textContent = d ? formatClock(d) : '';
  }
  player.on('time', showPosition, signal);
  for (const ev of ['change', 'state']) {
    player.on(ev, () => { if (rec) { showPosition(); renderPlaying(); } }, signal);
  }

  // ---------- links to a moment: /recordings/{id}#t=2:10 ----------

  // startAt reads "#t=2:10", "#t=1:02:10" or "#t=130" (seconds); null when
  // the address names no moment.
  function startAt() {
    const m = /^#t=((?:\d+:){0,2}\d+(?:\.\d+)?)$/.exec(location.hash);
    if (!m) return null;
    return m[1].split(':').reduce((total, part) => total * 60 + Number(part), 0);
  }

  // The page's recording goes into the player, paused (Space plays it),
  // unless the player is busy with another: then its play button does.
  function cue(t) {
    if (mine()) { if (t !== null) player.seek(t); return; }
    if (player.current() && (!player.paused() || player.inList())) {
      if (t !== null) parked = t;
      return;
    }
    player.load(rec, { at: t || 0 });
  }

  $('#copy-link').addEventListener('click', async () => {
    const at = mine() ? player.time() : parked;
    const link = `${location.origin}/recordings/${encodeURIComponent(id)}#t=${formatClock(at)}`;
    const field = $('#share-link');
    field.value = link;
    field.hidden = false;
    field.select();
    try {
      await navigator.clipboard.writeText(link);
      say('Link copied: it starts at ' + formatClock(at) + '.', 'success');
    } catch {
      say('Copy the link shown below the player.', 'info');
    }
  });

  window.addEventListener('hashchange', () => {
    const t = startAt();
    if (t !== null && rec) cue(t);
  }, { signal });

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
  }, signal);

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
      player.refresh(rec);
      if (signal.aborted) return;
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
      if (!signal.aborted) navigate('/');
    } catch (err) {
      say(err.message, 'error');
    }
  });

  // ---------- load ----------

  try {
    rec = await api(base, { signal });
  } catch (err) {
    if (signal.aborted) return;
    if (err.status === 404 || err.status === 400) notFound();
    else { $('#title').textContent = 'Could not load this recording'; say(err.message, 'error'); }
  }
  if (!rec || signal.aborted) return;

  $('#content').hidden = false;
  wave = scrubber(canvas, decodePeaks(rec.peaks), { time: () => (mine() ? player.time() : parked), duration, seek });
  player.showingPage(id);
  signal.addEventListener('abort', () => player.showingPage(null));
  $('#download').href = `${base}/audio?download=1`;
  $('#delete').hidden = !(me.user.role === 'admin' || me.user.id === rec.uploaded_by);
  editBtn.setAttribute('aria-expanded', 'false');
  editBtn.setAttribute('aria-controls', 'edit-form');
  renderDetails();
  renderScores();
  if (mine()) player.refresh(rec);
  cue(startAt());
  renderPlaying();
  showPosition();
  if (rec.listening_copy.status === 'pending') watchProcessing();
  const draft = takeDraft();
  if (draft) {
    openEdit(draft);
    say('Your unsaved changes were kept while you signed in again: check them and save.', 'info');
  }
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
