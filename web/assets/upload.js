// upload.js: several files at once, each sent as multipart with
// XMLHttpRequest (fetch has no upload progress), at most two at a time.
import { errorFrom, fallbackMessage } from './api.js';
import { initNav } from './nav.js';
import {
  $, h, say, formatSize, formatWait, showApiFieldError, clearFieldErrors,
} from './ui.js';

const PARALLEL = 2;
const FIELDS = ['title', 'recorded_date', 'venue', 'source', 'notes'];

const input = $('#files');
const fieldsForm = $('#fields');
const zone = $('#dropzone');
const list = $('#uploads');

const queue = [];
let active = 0;
let sessionOver = false;
const tally = { saved: 0, duplicate: 0, failed: 0 };

await initNav('upload');

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

function addFiles(fileList) {
  const files = [...fileList];
  if (!files.length) return;
  clearFieldErrors(fieldsForm); // the details are being sent again
  const fields = currentFields(files.length === 1);
  if (fields.title) $('#title').value = ''; // a title belongs to that one file
  const section = $('#uploads-section');
  const firstTime = section.hidden;
  section.hidden = false;
  if (firstTime) section.scrollIntoView({ block: 'start' }); // on phones the list starts below the fold
  if (!active && !queue.length) Object.assign(tally, { saved: 0, duplicate: 0, failed: 0 }); // a new batch
  sessionOver = false; // adding files again is a fresh try after signing in
  for (const file of files) {
    const item = makeItem(file, fields);
    list.append(item.el);
    queue.push(item);
  }
  say(`Uploading ${files.length} file${files.length === 1 ? '' : 's'}…`);
  pump();
}

function makeItem(file, fields) {
  const progress = h('progress', { max: '100', value: '0', 'aria-label': `Upload of ${file.name}` });
  const status = h('span', { class: 'upload-status' }, 'Waiting');
  const detail = h('span', { class: 'detail' });
  const extra = h('span', { class: 'upload-extra actions' });
  const el = h('li', { class: 'upload-item' },
    h('div', { class: 'top' }, h('span', { class: 'name' }, file.name), h('span', { class: 'size' }, formatSize(file.size))),
    progress,
    h('div', { class: 'bottom' }, h('span', {}, status, ' ', detail), extra));
  const item = { file, fields, el, progress, status, detail, extra, xhr: null, badField: null };
  setExtra(item, h('button', { type: 'button', class: 'quiet', onclick: () => cancel(item) }, 'Cancel'));
  return item;
}

function setExtra(item, ...nodes) {
  item.extra.replaceChildren(...nodes);
}

function cancel(item) {
  const i = queue.indexOf(item);
  if (i >= 0) { queue.splice(i, 1); end(item, 'failed', 'Cancelled', retryButton(item)); return; }
  item.xhr?.abort();
}

function retryButton(item) {
  return h('button', { type: 'button', onclick: () => retry(item) }, 'Try again');
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
  item.el.className = 'upload-item';
  item.progress.value = 0;
  item.status.textContent = 'Waiting';
  item.detail.textContent = '';
  setExtra(item, h('button', { type: 'button', class: 'quiet', onclick: () => cancel(item) }, 'Cancel'));
  tally.failed = Math.max(0, tally.failed - 1);
  queue.push(item);
  sessionOver = false;
  pump();
}

function pump() {
  while (!sessionOver && active < PARALLEL && queue.length) send(queue.shift());
}

function send(item) {
  active++;
  const { file, progress, status, detail } = item;
  const form = new FormData();
  for (const [k, v] of Object.entries(item.fields)) form.append(k, v);
  form.append('file', file, file.name); // last: the server reads the fields before streaming the file

  const xhr = new XMLHttpRequest();
  item.xhr = xhr;
  xhr.open('POST', '/api/upload');
  xhr.setRequestHeader('Accept', 'application/json');
  status.textContent = 'Uploading';

  // Speed is smoothed over half-second windows so the estimate doesn't jump.
  const started = performance.now();
  let mark = { t: started, loaded: 0 };
  let rate = 0;
  xhr.upload.onprogress = (e) => {
    if (!e.lengthComputable) return;
    const now = performance.now();
    const dt = (now - mark.t) / 1000;
    if (dt >= 0.5 || !rate) {
      const r = (e.loaded - mark.loaded) / Math.max(dt, 0.001);
      rate = rate ? rate * 0.7 + r * 0.3 : r;
      mark = { t: now, loaded: e.loaded };
    }
    const pct = (e.loaded / e.total) * 100;
    progress.value = pct;
    const left = rate > 0 ? (e.total - e.loaded) / rate : 0;
    detail.textContent = e.loaded < e.total
      ? `${Math.floor(pct)}% · ${(rate / 1e6).toFixed(1)} MB/s · about ${formatWait(left)} left`
      : '100%';
  };
  xhr.upload.onload = () => {
    progress.value = 100;
    status.textContent = 'Checking the file…';
    detail.textContent = '';
  };

  xhr.onload = () => {
    let body = null;
    try { body = JSON.parse(xhr.responseText); } catch { /* not JSON: use the fallback message */ }
    finished(item, xhr.status, body);
  };
  xhr.onerror = () => end(item, 'failed', 'Upload interrupted, try again', retryButton(item));
  xhr.onabort = () => end(item, 'failed', 'Cancelled', retryButton(item));
  xhr.send(form);
}

function finished(item, code, body) {
  if (code === 201 && body) {
    const title = body.title || body.original_filename || 'the recording';
    end(item, 'done', 'Saved', h('a', { class: 'upload-link', href: `/recordings/${encodeURIComponent(body.id)}` }, `Open “${title}”`));
    return;
  }
  const err = errorFrom(code, body);
  if (code === 409) {
    const existing = body?.error?.existing_id;
    end(item, 'duplicate', 'Already in the archive',
      existing ? h('a', { class: 'upload-link', href: `/recordings/${encodeURIComponent(existing)}` }, 'See the recording') : null);
  } else if (code === 413) {
    end(item, 'failed', `Too large (${err.message})`);
  } else if (code === 415) {
    end(item, 'failed', 'Not an audio file the archive accepts');
  } else if (code === 401) {
    sessionEnded(item);
  } else {
    if (err.field) markField(item, err);
    end(item, 'failed', err.message || fallbackMessage(code), retryButton(item));
  }
}

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
function sessionEnded(item) {
  sessionOver = true;
  end(item, 'failed', 'Not saved: your session has ended', retryButton(item));
  for (const waiting of queue.splice(0)) end(waiting, 'failed', 'Not uploaded: your session has ended', retryButton(waiting), false);
  say('Your session has ended. Sign in again, then upload the files that were not saved.', 'error',
    { href: '/login?expired=1', text: 'Sign in again' });
}

function end(item, kind, text, extra = null, wasActive = item.xhr !== null) {
  if (wasActive && item.xhr) active--;
  item.xhr = null;
  item.el.className = `upload-item ${kind}`;
  item.status.textContent = text;
  if (kind !== 'done') item.detail.textContent = '';
  setExtra(item, ...(extra ? [extra] : []));
  tally[kind === 'done' ? 'saved' : kind === 'duplicate' ? 'duplicate' : 'failed']++;
  pump();
  if (!active && !queue.length && !sessionOver) summary();
}

function summary() {
  const parts = [];
  if (tally.saved) parts.push(`${tally.saved} saved`);
  if (tally.duplicate) parts.push(`${tally.duplicate} already in the archive`);
  if (tally.failed) parts.push(`${tally.failed} not saved`);
  say(`Uploads finished: ${parts.join(', ')}.`, tally.failed ? 'error' : 'success');
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

window.addEventListener('beforeunload', (e) => {
  if (active || queue.length) { e.preventDefault(); e.returnValue = ''; }
});
