// upload.js: several files at once, each a resumable upload (tus.js), at
// most two at a time. Each file can be paused and resumed; a dropped
// connection is retried by itself, from what the archive acknowledged;
// after a reload or a crash, choosing the same file again offers to
// continue it.
import { api, fallbackMessage } from './api.js';
import { initNav } from './nav.js';
import {
  $, h, say, formatSize, formatWait, showApiFieldError, clearFieldErrors,
} from './ui.js';
import {
  TusUpload, serverLimits, formatLimit, fingerprint, remembered, forget,
  status as uploadStatus, terminate, unfinishedUploads, encodeMetadata, METADATA_BUDGET,
} from './tus.js';

const PARALLEL = 2;
const FIELDS = ['title', 'recorded_date', 'venue', 'source', 'notes'];
// A row in one of these states is still to be uploaded; the rest are settled.
const MOVING = new Set(['new', 'checking', 'waiting', 'running']);
const PENDING = new Set([...MOVING, 'asking', 'paused']);

const input = $('#files');
const fieldsForm = $('#fields');
const zone = $('#dropzone');
const list = $('#uploads');
const overall = $('#overall');

const items = []; // every row of the page
let batch = []; // the rows the overall line and the summary count
const queue = [];
let sessionOver = false;
let maxSize = null; // bytes, from the archive (OPTIONS Tus-Max-Size)
let askedFocus = false; // the first resume question of a batch takes the focus

await initNav('upload');

const limitKnown = serverLimits().then(({ maxSize: max }) => {
  maxSize = max;
  if (max) {
    const note = $('#limit');
    note.textContent = `Up to ${formatLimit(max)} per file. A dropped connection does not lose what was sent: the upload continues where it stopped.`;
    note.hidden = false;
  }
}).catch(() => { /* the archive still refuses a file over its limit when the upload starts */ });

showUnfinished();

// The shared fields as they are now; the title only for a single file.
function currentFields(single) {
  const out = {};
  for (const name of FIELDS) {
    if (name === 'title' && !single) continue;
    const v = $(`#${name}`).value.trim();
    if (v) out[name] = v;
  }
  return out;
}

const running = () => items.filter((i) => i.state === 'running').length;

async function addFiles(fileList) {
  let files = [...fileList];
  if (!files.length) return;
  // The same file twice on the page would be two clients of one upload.
  const onPage = new Set(items.filter((i) => PENDING.has(i.state)).map((i) => i.key));
  const again = files.filter((f) => onPage.has(fingerprint(f)));
  files = files.filter((f) => !onPage.has(fingerprint(f)));
  if (!files.length) {
    say(`${again.map((f) => f.name).join(', ')}: already in the list below.`);
    return;
  }
  clearFieldErrors(fieldsForm); // the details are being sent again
  const fields = currentFields(files.length === 1);
  if (fields.title) $('#title').value = ''; // a title belongs to that one file
  const section = $('#uploads-section');
  const firstTime = section.hidden;
  section.hidden = false;
  if (firstTime) section.scrollIntoView({ block: 'start' }); // on phones the list starts below the fold
  if (!batch.some((i) => PENDING.has(i.state))) {
    batch = []; // a new batch
    askedFocus = false;
  }
  sessionOver = false; // adding files again is a fresh try after signing in
  const rows = files.map((file) => {
    const item = makeItem(file, { ...fields }); // its own: "Try again" may correct one
    list.append(item.el);
    items.push(item);
    batch.push(item);
    return item;
  });
  const skipped = again.length ? ` (${again.map((f) => f.name).join(', ')}: already in the list.)` : '';
  say(`Uploading ${files.length} file${files.length === 1 ? '' : 's'}…${skipped}`);
  updateOverall();
  await limitKnown;
  for (const item of rows) admit(item);
  showUnfinished();
  pump();
}

function makeItem(file, fields) {
  const progress = h('progress', { max: '100', value: '0', 'aria-label': `Upload of ${file.name}` });
  // Announced when it changes: the state, not the numbers (those are in detail).
  const status = h('span', { class: 'upload-status', 'aria-live': 'polite' }, 'Waiting');
  const detail = h('span', { class: 'detail' });
  const extra = h('span', { class: 'upload-extra actions' });
  const el = h('li', { class: 'upload-item', tabindex: '-1' },
    h('div', { class: 'top' }, h('span', { class: 'name' }, file.name), h('span', { class: 'size' }, formatSize(file.size))),
    progress,
    h('div', { class: 'bottom' }, h('span', {}, status, ' ', detail), extra));
  return {
    file, key: fingerprint(file), fields, el, progress, status, detail, extra,
    state: 'new', upload: null, sent: 0, badField: null, cancelling: false, retrying: false, speed: null,
  };
}

// admit decides what happens to a new row: refused at once, a question
// about an earlier upload of the same file, or the queue.
function admit(item) {
  const { file } = item;
  if (item.state !== 'new') return; // cancelled meanwhile
  if (maxSize && file.size > maxSize) {
    end(item, 'failed', `Too large: the archive takes files up to ${formatLimit(maxSize)}`);
    return;
  }
  if (!file.size) {
    end(item, 'failed', 'The file is empty');
    return;
  }
  const earlier = remembered(file);
  if (earlier) {
    offerResume(item, earlier.url);
    return;
  }
  item.upload = newUpload(item);
  enqueue(item);
}

function newUpload(item, url = null) {
  // Long notes do not fit in a header (Upload-Metadata): they are saved on
  // the recording once it exists.
  const { notes, ...rest } = item.fields;
  const fits = encodeMetadata({ filename: item.file.name, ...item.fields }).length <= METADATA_BUDGET;
  item.lateNotes = url || fits ? null : notes;
  return new TusUpload(item.file, {
    metadata: fits ? item.fields : rest,
    url,
    onProgress: (bytes) => progressed(item, bytes),
    onStatus: (s) => statusChanged(item, s),
  });
}

// ---------- resuming after a reload ----------

async function offerResume(item, url) {
  const { file } = item;
  setState(item, 'checking', 'Looking for the earlier upload…');
  setExtra(item, cancelButton(item));
  let where;
  try {
    where = await uploadStatus(url);
  } catch {
    where = undefined; // the archive did not answer: offer it anyway, resuming asks again
  }
  if (item.state !== 'checking') return; // cancelled meanwhile
  if (where === null || (where && where.length && where.length !== file.size)) {
    // The archive no longer has it: start over, nothing to ask.
    forget(file);
    item.upload = newUpload(item);
    enqueue(item);
    pump();
    return;
  }
  if (where?.recordingId) {
    // Finished after all: the page that sent it lost the answer.
    forget(file);
    item.state = 'running'; // for finished(), which settles it
    finished(item, where);
    return;
  }
  item.sent = where ? where.offset : 0;
  item.progress.value = (item.sent / file.size) * 100;
  const question = where
    ? `${Math.floor((where.offset / file.size) * 100)}% already uploaded. Resume?`
    : 'An earlier upload of this file did not finish. Resume?';
  setState(item, 'asking', question);
  item.detail.textContent = 'It keeps the details given when it started.';
  const resume = button('Resume', file, () => {
    item.upload = newUpload(item, url);
    enqueue(item);
    pump();
  }, 'primary');
  const over = button('Start over', file, async () => {
    setState(item, 'checking', 'Discarding the earlier upload…');
    setExtra(item, cancelButton(item));
    forget(file);
    await terminate(url); // first: it counts against the unfinished uploads a member may have
    if (item.state !== 'checking') return; // cancelled meanwhile
    item.sent = 0;
    item.progress.value = 0;
    item.upload = newUpload(item);
    enqueue(item);
    pump();
  });
  setExtra(item, resume, over, cancelButton(item));
  say(`${file.name}: ${question}`);
  updateOverall();
  if (!askedFocus) {
    askedFocus = true;
    resume.focus();
  }
}

// Uploads this browser started and did not finish, for files not on the
// page: choosing the file again continues it, or what was sent is discarded.
function showUnfinished() {
  const section = $('#unfinished-section');
  const ul = $('#unfinished');
  const onPage = new Set(items.map((i) => i.key));
  const left = unfinishedUploads().filter((u) => !onPage.has(u.key));
  ul.replaceChildren(...left.map((u) => h('li', {},
    h('span', { class: 'name' }, u.name), ' ', h('span', { class: 'size' }, formatSize(u.size)), ' ',
    h('button', {
      type: 'button',
      class: 'quiet',
      'aria-label': `Discard ${u.name}`,
      onclick: async (e) => {
        e.currentTarget.disabled = true;
        forget(u.key);
        await terminate(u.url);
        showUnfinished();
        say(`${u.name}: what was sent is discarded.`);
        // The button is gone: the focus goes to the next one, or to choosing files.
        (section.hidden ? $('#files') : ul.querySelector('button')).focus();
      },
    }, 'Discard'))));
  section.hidden = !left.length;
}

// ---------- the queue ----------

function enqueue(item, first = false) {
  joinBatch(item);
  setState(item, 'waiting', 'Waiting');
  item.detail.textContent = '';
  setExtra(item, pauseButton(item), cancelButton(item));
  if (first) queue.unshift(item);
  else queue.push(item);
  updateOverall();
}

function joinBatch(item) {
  if (batch.includes(item)) return;
  if (!batch.some((i) => PENDING.has(i.state))) batch = [];
  batch.push(item);
}

function pump() {
  while (!sessionOver && running() < PARALLEL && queue.length) start(queue.shift());
}

function start(item) {
  setState(item, 'running', 'Uploading');
  item.speed = null;
  item.retrying = false;
  setExtra(item, pauseButton(item), cancelButton(item));
  item.upload.start().then((done) => finished(item, done), (err) => stopped(item, err));
}

// statusChanged shows what the upload is doing in its row.
function statusChanged(item, s) {
  if (item.state !== 'running') return;
  switch (s.state) {
    case 'creating':
      setStatus(item, 'Starting');
      break;
    case 'resuming':
      if (item.retrying) item.detail.textContent = 'retrying now…';
      else setStatus(item, 'Resuming');
      break;
    case 'uploading':
      if (item.retrying) item.speed = null; // the speed before the drop says nothing now
      item.retrying = false;
      item.el.classList.remove('retrying');
      setStatus(item, 'Uploading');
      break;
    case 'finishing':
      setStatus(item, 'Checking the file…');
      item.detail.textContent = '';
      break;
    case 'restarting':
      setStatus(item, 'Starting over');
      item.detail.textContent = 'the archive no longer had the earlier part';
      break;
    case 'retrying':
      item.retrying = true;
      item.el.classList.add('retrying');
      setStatus(item, `${troubleOf(s.error)},`);
      item.detail.textContent = `retrying in ${s.seconds} s…`;
      break;
    default:
  }
}

function troubleOf(err) {
  if (err?.status === 0) return navigator.onLine === false ? 'You are offline' : 'Connection lost';
  if (err?.status === 423) return 'The archive is still busy with this file';
  return 'The archive is not answering';
}

// progressed moves the bar; the speed is smoothed over half-second
// windows so the estimate doesn't jump.
function progressed(item, bytes) {
  const total = item.file.size;
  item.sent = bytes;
  const pct = total ? (bytes / total) * 100 : 100;
  item.progress.value = pct;
  updateOverall();
  if (item.state !== 'running' || item.retrying || item.status.textContent !== 'Uploading') return;
  const now = performance.now();
  const s = item.speed;
  if (!s || bytes < s.bytes) {
    item.speed = { t: now, bytes, rate: 0 };
  } else {
    const dt = (now - s.t) / 1000;
    if (dt >= 0.5) {
      const r = (bytes - s.bytes) / dt;
      item.speed = { t: now, bytes, rate: s.rate ? s.rate * 0.7 + r * 0.3 : r };
    }
  }
  const { rate } = item.speed;
  item.detail.textContent = rate > 0 && bytes < total
    ? `${Math.floor(pct)}% · ${(rate / 1e6).toFixed(1)} MB/s · about ${formatWait((total - bytes) / rate)} left`
    : `${Math.floor(pct)}%`;
}

async function finished(item, { recordingId, duplicate }) {
  item.sent = item.file.size;
  item.progress.value = 100;
  const href = `/recordings/${encodeURIComponent(recordingId)}`;
  if (duplicate) {
    end(item, 'duplicate', 'Already in the archive', h('a', { class: 'upload-link', href }, 'See the recording'));
    return;
  }
  let title = item.fields.title || item.file.name;
  let saved = 'Saved';
  const path = `/api/recordings/${encodeURIComponent(recordingId)}`;
  try {
    const rec = item.lateNotes
      ? await api(path, { method: 'PATCH', json: { notes: item.lateNotes }, redirectOn401: false })
      : await api(path, { redirectOn401: false });
    title = rec?.title || rec?.original_filename || title;
  } catch (err) {
    // The recording is there; only the notes are not (the link works without the title).
    if (item.lateNotes) saved = `Saved, but not the notes: ${err.message} Add them on the recording's page.`;
  }
  item.lateNotes = null;
  end(item, 'done', saved, h('a', { class: 'upload-link', href }, `Open “${title}”`));
}

function stopped(item, err) {
  if (err?.name === 'AbortError') {
    if (item.cancelling) end(item, 'cancelled', 'Cancelled', retryButton(item));
    else paused(item);
    return;
  }
  if (err?.status === 401) {
    sessionEnded(item);
  } else if (err?.status === 413 || err?.status === 415) {
    end(item, 'failed', err.message); // the file itself: trying again changes nothing
  } else {
    if (err?.field) markField(item, err);
    end(item, 'failed', err?.message || fallbackMessage(err?.status), retryButton(item));
  }
}

// ---------- pause, resume, cancel, try again ----------

function pause(item) {
  if (item.state === 'running') {
    item.upload.pause(); // stopped() shows it paused
    return;
  }
  const i = queue.indexOf(item);
  if (i >= 0) queue.splice(i, 1);
  paused(item);
}

function paused(item) {
  setState(item, 'paused', 'Paused');
  item.el.classList.remove('retrying');
  item.retrying = false;
  item.detail.textContent = `${Math.floor((item.sent / item.file.size) * 100)}% uploaded`;
  setExtra(item, button('Resume', item.file, () => resume(item), 'primary'), cancelButton(item));
  pump();
  updateOverall();
  maybeSummary();
}

// resume continues from what the archive has (tus.js asks it first).
function resume(item) {
  sessionOver = false;
  enqueue(item, true);
  pump();
}

function cancel(item) {
  const i = queue.indexOf(item);
  if (i >= 0) queue.splice(i, 1);
  if (item.state === 'running') {
    item.cancelling = true;
    item.upload.cancel(); // stopped() ends the row
    return;
  }
  if (item.upload) {
    item.upload.cancel();
  } else {
    const earlier = remembered(item.file);
    if (earlier && (item.state === 'asking' || item.state === 'checking')) {
      forget(item.file);
      terminate(earlier.url);
    }
  }
  end(item, 'cancelled', 'Cancelled', retryButton(item));
}

function retry(item) {
  if (item.badField) {
    // The archive refused one of the details: send what the field says now.
    const name = item.badField;
    item.badField = null;
    const value = fieldsForm.elements.namedItem(name)?.value.trim();
    if (value) item.fields[name] = value;
    else delete item.fields[name];
    if (name === 'title') $('#title').value = ''; // as in addFiles: it belonged to this file
    clearFieldErrors(fieldsForm);
  }
  item.cancelling = false;
  item.el.className = 'upload-item';
  // An upload the archive still has continues; else a new one, with the
  // details as they are now.
  if (!item.upload?.url) {
    item.upload = newUpload(item);
    item.sent = 0;
    item.progress.value = 0;
  }
  sessionOver = false;
  enqueue(item);
  pump();
}

// ---------- the row ----------

function setState(item, state, text) {
  item.state = state;
  item.el.className = `upload-item ${state === 'paused' || state === 'asking' ? 'paused' : ''}`.trim();
  setStatus(item, text);
}

// setStatus changes the announced text only when it changes.
function setStatus(item, text) {
  if (item.status.textContent !== text) item.status.textContent = text;
}

// setExtra replaces the row's buttons; the focus, if it was on one of
// them, moves to the first new one (or the row), not to the page's top.
function setExtra(item, ...nodes) {
  const hadFocus = item.extra.contains(document.activeElement);
  item.extra.replaceChildren(...nodes.filter(Boolean));
  if (hadFocus) (item.extra.querySelector('button, a') || item.el).focus();
}

// Buttons are named with the file, so a list of them reads well.
function button(text, file, onclick, cls = '') {
  return h('button', { type: 'button', class: cls || null, 'aria-label': `${text} ${file.name}`, onclick }, text);
}

const pauseButton = (item) => button('Pause', item.file, () => pause(item));
const cancelButton = (item) => button('Cancel', item.file, () => cancel(item), 'quiet');
const retryButton = (item) => button('Try again', item.file, () => retry(item));

// The archive refused one of the details sent with the file: mark that
// field above, with the archive's message, so it can be put right before
// "Try again" (which then sends the field's new value).
function markField(item, err) {
  const field = fieldsForm.elements.namedItem(err.field);
  if (!field || !('value' in field)) return;
  item.badField = err.field;
  const sent = item.fields[err.field] ?? '';
  // addFiles empties the title once it is sent: put it back to be corrected.
  if (err.field === 'title' && sent && !field.value.trim()) field.value = sent;
  if (field.value.trim() !== sent) return; // already changed since this file was sent
  // Several files of one batch fail the same way: move the focus only once.
  showApiFieldError(fieldsForm, err, { focus: field.getAttribute('aria-invalid') !== 'true' });
}

// Sending the person to sign in at once would lose the list of what was
// saved, so the page stops the queue and offers the sign-in link instead.
// What was sent is kept: after signing in, "Try again" continues it.
function sessionEnded(item) {
  sessionOver = true;
  end(item, 'failed', 'Not saved: your session has ended', retryButton(item));
  for (const waiting of queue.splice(0)) end(waiting, 'failed', 'Not uploaded: your session has ended', retryButton(waiting));
  say('Your session has ended. Sign in again, then upload the files that were not saved.', 'error',
    { href: '/login?expired=1', text: 'Sign in again' });
}

function end(item, kind, text, ...extra) {
  const i = queue.indexOf(item);
  if (i >= 0) queue.splice(i, 1);
  item.state = kind;
  item.retrying = false;
  item.el.className = `upload-item ${kind === 'cancelled' ? 'failed' : kind}`;
  setStatus(item, text);
  item.detail.textContent = '';
  setExtra(item, ...extra);
  pump();
  updateOverall();
  maybeSummary();
}

// updateOverall writes "2 of 3 files, 340 MB of 900 MB" for the batch;
// cancelled files leave it.
function updateOverall() {
  const rows = batch.filter((i) => i.state !== 'cancelled');
  if (!rows.length) {
    overall.textContent = '';
    return;
  }
  const isDone = (i) => i.state === 'done' || i.state === 'duplicate';
  const done = rows.filter(isDone).length;
  const total = rows.reduce((n, i) => n + i.file.size, 0);
  const sent = rows.reduce((n, i) => n + (isDone(i) ? i.file.size : Math.min(i.sent, i.file.size)), 0);
  overall.textContent = `${done} of ${rows.length} file${rows.length === 1 ? '' : 's'}, ${formatSize(sent)} of ${formatSize(total)}`;
}

function maybeSummary() {
  if (sessionOver || !batch.length || batch.some((i) => PENDING.has(i.state))) return;
  const count = (...states) => batch.filter((i) => states.includes(i.state)).length;
  const parts = [];
  const saved = count('done');
  const duplicate = count('duplicate');
  const failed = count('failed', 'cancelled');
  if (saved) parts.push(`${saved} saved`);
  if (duplicate) parts.push(`${duplicate} already in the archive`);
  if (failed) parts.push(`${failed} not saved`);
  say(`Uploads finished: ${parts.join(', ')}.`, failed ? 'error' : 'success');
}

// ---------- choosing files ----------

input.addEventListener('change', () => {
  addFiles(input.files);
  input.value = ''; // so choosing the same file again still fires "change"
});

let depth = 0; // dragenter/leave fire for every child element
zone.addEventListener('dragenter', (e) => { e.preventDefault(); depth++; zone.classList.add('over'); });
zone.addEventListener('dragleave', () => { if (--depth <= 0) { depth = 0; zone.classList.remove('over'); } });
zone.addEventListener('dragover', (e) => { e.preventDefault(); e.dataTransfer.dropEffect = 'copy'; });
zone.addEventListener('drop', (e) => {
  e.preventDefault();
  depth = 0;
  zone.classList.remove('over');
  addFiles(e.dataTransfer.files);
});
// A file dropped beside the zone would otherwise replace the page with it.
window.addEventListener('dragover', (e) => e.preventDefault());
window.addEventListener('drop', (e) => e.preventDefault());

// Back online: retry now rather than at the end of the wait.
window.addEventListener('online', () => {
  for (const item of items) item.upload?.wake();
});

// Paused uploads can be resumed after a reload; moving ones would stop.
window.addEventListener('beforeunload', (e) => {
  if (items.some((i) => MOVING.has(i.state))) { e.preventDefault(); e.returnValue = ''; }
});
