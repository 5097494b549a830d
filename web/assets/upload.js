// upload.js: several files at once, each a resumable upload (tus.js), at
// most two at a time. Each file can be paused and resumed; a dropped
// connection is retried by itself, from what the archive acknowledged;
// after a reload or a crash, choosing the same file again offers to
// continue it. A saved file is edited right in the list.
//
// The shell mounts this page (mount below) each time the member comes to
// it. The uploads belong to the document, not to one visit of the page:
// they go on while the member looks at other pages, and the list shows
// them again on the way back. Only leaving the document (a reload,
// closing the tab) would stop them, and that asks first.
import { api, fallbackMessage, recordingPath } from './api.js';
import {
  $, h, say, formatSize, formatDate, formatWait, recordingTitle, showApiFieldError, clearFieldErrors,
} from './ui.js';
import {
  TusUpload, serverLimits, formatLimit, fingerprint, remembered, forget,
  status as uploadStatus, terminate, unfinishedUploads, encodeMetadata, METADATA_BUDGET,
} from './tus.js';

const PARALLEL = 2;
// The details of the form that go with the next files, as the API names them.
const DETAILS = ['title', 'recorded_date', 'venue', 'source', 'notes'];
// A row in one of these states is still to be uploaded; the rest are settled.
const MOVING = new Set(['new', 'checking', 'waiting', 'running']);
const PENDING = new Set([...MOVING, 'asking', 'paused']);

const items = []; // every row, for as long as the document lives
let batch = []; // the rows the overall line and the summary count
const queue = [];
let sessionOver = false;
let maxSize = null; // bytes, from the archive (OPTIONS Tus-Max-Size)
let limitKnown = null; // settles once the limit is known (or could not be)
let askedFocus = false; // the first resume question of a batch takes the focus
let lastDetails = null; // what the last batch took, to use again
let edits = 0; // numbers the ids of the edit forms
let view = null; // the page's elements while it is shown, else null
let background = null; // AbortController of the document's listeners while files move

/** The shell calls this each time the upload page is shown. */
export default async function mount({ main, signal }) {
  const v = {
    main,
    form: $('#fields', main),
    input: $('#files', main),
    zone: $('#dropzone', main),
    list: $('#uploads', main),
    overall: $('#overall', main),
  };
  view = v;
  signal.addEventListener('abort', () => { if (view === v) view = null; }, { once: true });

  v.input.addEventListener('change', () => {
    addFiles(v.input.files);
    v.input.value = ''; // so choosing the same file again still fires "change"
  }, { signal });
  let depth = 0; // dragenter/leave fire for every child element
  v.zone.addEventListener('dragenter', (e) => { e.preventDefault(); depth++; v.zone.classList.add('over'); }, { signal });
  v.zone.addEventListener('dragleave', () => { if (--depth <= 0) { depth = 0; v.zone.classList.remove('over'); } }, { signal });
  v.zone.addEventListener('dragover', (e) => { e.preventDefault(); e.dataTransfer.dropEffect = 'copy'; }, { signal });
  v.zone.addEventListener('drop', (e) => {
    e.preventDefault();
    depth = 0;
    v.zone.classList.remove('over');
    addFiles(e.dataTransfer.files);
  }, { signal });
  // A file dropped beside the zone would otherwise replace the page with it.
  window.addEventListener('dragover', (e) => e.preventDefault(), { signal });
  window.addEventListener('drop', (e) => e.preventDefault(), { signal });

  const date = v.form.elements.namedItem('recorded_date');
  date.max = today();
  $('#details-again', main).addEventListener('click', () => useDetailsAgain(v), { signal });

  // The rows of this document's uploads, still going or done.
  if (items.length) {
    v.list.replaceChildren(...items.map((i) => i.el));
    $('#uploads-section', main).hidden = false;
  }
  showUsedDetails();
  updateOverall();
  showUnfinished();

  limitKnown ??= serverLimits().then(({ maxSize: max }) => { maxSize = max; })
    .catch(() => { limitKnown = null; /* the archive still refuses a file over its limit when the upload starts */ });
  await limitKnown;
  if (view === v && maxSize) {
    const note = $('#limit', main);
    note.textContent = `Up to ${formatLimit(maxSize)} per file. A dropped connection does not lose what was sent: the upload continues where it stopped.`;
    note.hidden = false;
  }
}

// tell says message on the page when it is shown; away, the row says it.
function tell(...args) {
  if (view) say(...args);
}

// today is the local date as the date inputs write it.
function today() {
  const d = new Date();
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}

// dateProblem is the archive's own refusal of a recorded date, said before
// a byte is sent: a date given only for files without one of their own is
// set after the upload, when the archive could no longer refuse it there.
function dateProblem(value) {
  if (!value) return null;
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value)) return 'The recorded date must look like 1998-07-14.';
  if (value < '1900-01-01' || value > today()) return `The recorded date ${value} is not plausible.`;
  return null;
}

// ---------- the details for the next files ----------

// takeDetails reads the form for the files being added: the fields sent
// with them, and the date to set only where the file carries none (unless
// the member chose to use it everywhere); the title only for a single file.
// The form is then emptied, so the next files start without them.
function takeDetails(single) {
  const { form } = view;
  const values = {};
  for (const name of DETAILS) values[name] = form.elements.namedItem(name).value.trim();
  const everywhere = form.elements.namedItem('date_everywhere').checked;
  const fields = {};
  let defaultDate = null;
  for (const name of DETAILS) {
    const value = values[name];
    if (!value || (name === 'title' && !single)) continue;
    if (name === 'recorded_date' && !everywhere) defaultDate = value;
    else fields[name] = value;
  }
  const given = DETAILS.some((name) => values[name] && (name !== 'title' || single));
  if (given) {
    // A title belongs to its one file: it is not used again.
    lastDetails = { values: { ...values, title: '' }, everywhere, names: null };
    for (const name of DETAILS) if (name !== 'title' || single) form.elements.namedItem(name).value = '';
    form.elements.namedItem('date_everywhere').checked = false;
  }
  return { fields, defaultDate, everywhere, given };
}

// describe says in a few words which details a file takes.
function describe({ fields, defaultDate }) {
  const parts = [];
  if (fields.title) parts.push(`“${fields.title}”`);
  if (fields.recorded_date) parts.push(`recorded ${formatDate(fields.recorded_date)}`);
  if (defaultDate) parts.push(`recorded ${formatDate(defaultDate)} unless the file says otherwise`);
  if (fields.venue) parts.push(fields.venue);
  if (fields.source) parts.push(fields.source);
  if (fields.notes) parts.push('notes');
  return parts.join(' · ');
}

// showUsedDetails says, above the emptied form, where the last details
// went, with a button that puts them back.
function showUsedDetails(files = null) {
  if (files && lastDetails) {
    lastDetails.names = files.length === 1 ? files[0].name : `${files[0].name} and ${files.length - 1} more`;
  }
  if (!view) return;
  const box = $('#details-used', view.main);
  box.hidden = !lastDetails?.names;
  if (!box.hidden) {
    $('#details-used-text', view.main).textContent = `These details went with ${lastDetails.names}; the fields are empty for the next files.`;
  }
}

function useDetailsAgain(v) {
  if (!lastDetails) return;
  for (const name of DETAILS) {
    if (lastDetails.values[name]) v.form.elements.namedItem(name).value = lastDetails.values[name];
  }
  v.form.elements.namedItem('date_everywhere').checked = lastDetails.everywhere;
  lastDetails.names = null;
  $('#details-used', v.main).hidden = true;
  v.form.elements.namedItem('venue').focus();
}

// ---------- adding files ----------

const running = () => items.filter((i) => i.state === 'running').length;

async function addFiles(fileList) {
  let files = [...fileList];
  if (!files.length || !view) return;
  // The same file twice on the page would be two clients of one upload.
  const onPage = new Set(items.filter((i) => PENDING.has(i.state)).map((i) => i.key));
  const again = files.filter((f) => onPage.has(fingerprint(f)));
  files = files.filter((f) => !onPage.has(fingerprint(f)));
  if (!files.length) {
    tell(`${again.map((f) => f.name).join(', ')}: already in the list below.`);
    return;
  }
  clearFieldErrors(view.form); // the details are being sent again
  const details = takeDetails(files.length === 1);
  if (details.given) showUsedDetails(files);
  const section = $('#uploads-section', view.main);
  const firstTime = section.hidden;
  section.hidden = false;
  if (firstTime) section.scrollIntoView({ block: 'start' }); // on phones the list starts below the fold
  if (!batch.some((i) => PENDING.has(i.state))) {
    batch = []; // a new batch
    askedFocus = false;
  }
  sessionOver = false; // adding files again is a fresh try after signing in
  holdDocument();
  const rows = files.map((file) => {
    // Its own copy: "Try again" may correct one.
    const item = makeItem(file, { ...details.fields }, details.defaultDate, details.everywhere);
    view.list.append(item.el);
    items.push(item);
    batch.push(item);
    return item;
  });
  const skipped = again.length ? ` (${again.map((f) => f.name).join(', ')}: already in the list.)` : '';
  tell(`Uploading ${files.length} file${files.length === 1 ? '' : 's'}…${skipped}`);
  updateOverall();
  await limitKnown;
  for (const item of rows) admit(item);
  showUnfinished();
  pump();
}

function makeItem(file, fields, defaultDate, everywhere) {
  const progress = h('progress', { max: '100', value: '0', 'aria-label': `Upload of ${file.name}` });
  // Announced when it changes: the state, not the numbers (those are in detail).
  const status = h('span', { class: 'upload-status', 'aria-live': 'polite' }, 'Waiting');
  const detail = h('span', { class: 'detail' });
  const extra = h('span', { class: 'upload-extra actions' });
  const info = h('div', { class: 'upload-info' });
  const el = h('li', { class: 'upload-item', tabindex: '-1' },
    h('div', { class: 'top' }, h('span', { class: 'name' }, file.name), h('span', { class: 'size' }, formatSize(file.size))),
    progress,
    h('div', { class: 'bottom' }, h('span', {}, status, ' ', detail), extra),
    info);
  const item = {
    file, key: fingerprint(file), fields, defaultDate, everywhere, el, progress, status, detail, extra, info,
    state: 'new', upload: null, sent: 0, badField: null, cancelling: false, retrying: false, speed: null, rec: null,
  };
  showDetails(item);
  return item;
}

// showDetails writes, under a row still to be saved, the details it takes.
function showDetails(item) {
  const text = describe(item);
  item.info.replaceChildren(...(text ? [h('p', { class: 'detail' }, `With: ${text}`)] : []));
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
  if (refusedDate(item)) return;
  const earlier = remembered(file);
  if (earlier) {
    offerResume(item, earlier.url);
    return;
  }
  item.upload = newUpload(item);
  enqueue(item);
}

// refusedDate refuses the row, as the archive would, when its date is not
// one the archive takes; true when it did.
function refusedDate(item) {
  const message = dateProblem(item.fields.recorded_date || item.defaultDate);
  if (!message) return false;
  const err = { field: 'recorded_date', message };
  markField(item, err);
  end(item, 'failed', message, retryButton(item));
  return true;
}

function newUpload(item, url = null) {
  // Long notes do not fit in a header (Upload-Metadata): they are saved on
  // the recording once it exists, as is a date for files without their own.
  const { notes, ...rest } = item.fields;
  const fits = encodeMetadata({ filename: item.file.name, ...item.fields }).length <= METADATA_BUDGET;
  item.lateNotes = url || fits ? null : notes;
  if (url && item.defaultDate) {
    item.defaultDate = null; // a resumed upload keeps the details given when it started
    showDetails(item);
  }
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
    item.defaultDate = null;
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
  tell(`${file.name}: ${question}`);
  updateOverall();
  if (!askedFocus) {
    askedFocus = true;
    resume.focus();
  }
}

// Uploads this browser started and did not finish, for files not on the
// page: choosing the file again continues it, or what was sent is discarded.
function showUnfinished() {
  if (!view) return;
  const section = $('#unfinished-section', view.main);
  const ul = $('#unfinished', view.main);
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
        tell(`${u.name}: what was sent is discarded.`);
        // The button is gone: the focus goes to the next one, or to choosing files.
        if (view) (section.hidden ? view.input : ul.querySelector('button'))?.focus();
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
  holdDocument();
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

// holdDocument listens, for as long as files are moving, for what concerns
// the document rather than the page: leaving it (asked first: moving
// uploads would stop; paused ones can be resumed after a reload), and the
// browser coming back online (retry now rather than at the end of the wait).
function holdDocument() {
  if (background) return;
  background = new AbortController();
  const { signal } = background;
  window.addEventListener('beforeunload', (e) => {
    if (items.some((i) => MOVING.has(i.state))) { e.preventDefault(); e.returnValue = ''; }
  }, { signal });
  window.addEventListener('online', () => {
    for (const item of items) item.upload?.wake();
  }, { signal });
}

function releaseDocument() {
  if (!background || items.some((i) => MOVING.has(i.state))) return;
  background.abort();
  background = null;
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

// finished settles a row whose file is a recording: what could not travel
// with the file (long notes, a date for files without their own) is saved
// now, and the row offers the recording's page and an edit of it.
async function finished(item, { recordingId, duplicate }) {
  item.sent = item.file.size;
  item.progress.value = 100;
  const href = `/recordings/${encodeURIComponent(recordingId)}`;
  if (duplicate) {
    item.info.replaceChildren();
    end(item, 'duplicate', 'Already in the archive', h('a', { class: 'upload-link', href }, 'See the recording'));
    return;
  }
  const path = recordingPath(recordingId);
  const problems = [];
  let rec = null;
  try {
    rec = await api(path, { redirectOn401: false });
  } catch (err) {
    if (item.defaultDate) problems.push(`not the date: ${err.message}`);
  }
  const change = {};
  if (item.lateNotes) change.notes = item.lateNotes;
  let keptDate = null; // the file's own date, where it differs from the one given for files without one
  if (rec && item.defaultDate) {
    if (!rec.recorded_date) change.recorded_date = item.defaultDate;
    else if (rec.recorded_date !== item.defaultDate) keptDate = rec.recorded_date;
  }
  if (Object.keys(change).length) {
    try {
      rec = await api(path, { method: 'PATCH', json: change, redirectOn401: false });
    } catch (err) {
      // The recording is there; only these are not (the edit below can add them).
      problems.push(`not the ${Object.keys(change).map((k) => k.replace('_', ' ')).join(' and ')}: ${err.message}`);
    }
  }
  item.lateNotes = null;
  item.rec = rec || { id: recordingId, title: item.fields.title || item.file.name };
  const saved = problems.length ? `Saved, but ${problems.join('; ')}` : 'Saved';
  end(item, 'done', saved, ...savedActions(item));
  showSaved(item, keptDate);
}

// savedActions are the saved row's: its page, and editing it here.
function savedActions(item) {
  const href = `/recordings/${encodeURIComponent(item.rec.id)}`;
  item.link = h('a', { class: 'upload-link', href }, `Open “${recordingTitle(item.rec)}”`);
  item.editButton = h('button', {
    type: 'button', class: 'quiet', 'aria-label': `Edit ${item.file.name}`, 'aria-expanded': 'false', onclick: () => openEdit(item),
  }, 'Edit');
  return [item.link, item.editButton];
}

// showSaved writes what the saved recording says under its row, and, when
// the file carried a date of its own that differs from the one given for
// files without one, says it was kept, with a way to use the other.
function showSaved(item, keptDate = null) {
  const r = item.rec;
  const facts = [
    r.recorded_date ? `Recorded ${formatDate(r.recorded_date)}` : 'No date',
    r.venue || 'no venue',
  ];
  if (r.source) facts.push(r.source);
  const nodes = [h('p', { class: 'detail upload-facts' }, facts.join(' · '))];
  if (keptDate) {
    const wanted = item.defaultDate;
    nodes.push(h('p', { class: 'detail upload-kept' },
      `The file says it was recorded ${formatDate(keptDate)}: that date is kept, not ${formatDate(wanted)}. `,
      h('button', {
        type: 'button',
        class: 'link',
        onclick: async (e) => {
          const use = e.currentTarget;
          use.disabled = true;
          if (!await saveEdit(item, { recorded_date: wanted }, null)) use.disabled = false;
        },
      }, `Use ${formatDate(wanted)}`)));
  }
  item.info.replaceChildren(...nodes);
}

// ---------- editing a saved file in the list ----------

function openEdit(item) {
  if (item.editForm) {
    item.editForm.querySelector('input').focus();
    return;
  }
  const template = document.getElementById('edit-template');
  if (!template) return;
  const n = ++edits;
  const form = template.content.firstElementChild.cloneNode(true);
  for (const el of form.querySelectorAll('[id]')) el.id = `${el.id}-${n}`;
  for (const el of form.querySelectorAll('label[for]')) el.htmlFor = `${el.htmlFor}-${n}`;
  form.setAttribute('aria-label', `Details of ${item.file.name}`);
  const { title, recorded_date: date, venue } = form.elements;
  title.value = item.rec.title || '';
  date.value = item.rec.recorded_date || '';
  date.max = today();
  venue.value = item.rec.venue || '';
  const error = h('p', { class: 'form-error', role: 'alert' });
  form.append(error);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearFieldErrors(form);
    error.textContent = '';
    const change = {};
    if (title.value.trim() !== (item.rec.title || '')) change.title = title.value.trim();
    if (date.value !== (item.rec.recorded_date || '')) change.recorded_date = date.value || null;
    if (venue.value.trim() !== (item.rec.venue || '')) change.venue = venue.value.trim();
    if (!Object.keys(change).length) {
      closeEdit(item);
      return;
    }
    const submit = form.querySelector('button[type="submit"]');
    submit.disabled = true;
    await saveEdit(item, change, form, error);
    submit.disabled = false;
  });
  form.querySelector('[data-cancel]').addEventListener('click', () => closeEdit(item));
  form.addEventListener('keydown', (e) => { if (e.key === 'Escape') closeEdit(item); });
  item.editForm = form;
  item.info.append(form);
  item.editButton.setAttribute('aria-expanded', 'true');
  title.focus();
}

function closeEdit(item, focus = true) {
  item.editForm?.remove();
  item.editForm = null;
  item.editButton?.setAttribute('aria-expanded', 'false');
  if (focus) item.editButton?.focus();
}

// saveEdit sends change for the row's recording; a refused field is
// marked in form (when the edit form sent it), other errors said there.
async function saveEdit(item, change, form, error = null) {
  try {
    item.rec = await api(recordingPath(item.rec.id), { method: 'PATCH', json: change, redirectOn401: false });
  } catch (err) {
    const message = err.status === 401 ? 'Your session has ended. Sign in again in another tab, then save again.' : err.message;
    if (!(form && showApiFieldError(form, err))) {
      if (error) error.textContent = message;
      else tell(`${item.file.name}: ${message}`, 'error');
    }
    return false;
  }
  const open = item.editForm;
  item.link.textContent = `Open “${recordingTitle(item.rec)}”`;
  showSaved(item);
  if (open) {
    item.editForm = null; // showSaved replaced it
    item.editButton.setAttribute('aria-expanded', 'false');
    item.editButton.focus();
  }
  tell(`Saved the details of “${recordingTitle(item.rec)}”.`, 'success');
  return true;
}

// ---------- stopped, refused ----------

function stopped(item, err) {
  if (err?.name === 'AbortError') {
    if (item.cancelling) end(item, 'cancelled', 'Cancelled', retryButton(item));
    else paused(item);
    return;
  }
  if (err?.status === 401) {
    sessionEnded(item);
  } else if (err?.status === 415) {
    // Decided from what the file holds, never from its name: renaming it changes nothing.
    end(item, 'failed', `Not saved: what this file holds is not audio the archive can read, whatever its name says. ${err.message}`);
  } else if (err?.status === 413) {
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
  releaseDocument();
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
  if (item.badField && view) {
    // One of the details was refused: send what the field says now, and
    // empty it again, as adding the file did.
    const name = item.badField;
    const field = view.form.elements.namedItem(name);
    const value = field?.value.trim();
    if (name === 'recorded_date' && !item.everywhere) item.defaultDate = value || null;
    else if (value) item.fields[name] = value;
    else delete item.fields[name];
    if (field) field.value = '';
    clearFieldErrors(view.form);
  }
  item.badField = null;
  item.cancelling = false;
  item.el.className = 'upload-item';
  showDetails(item);
  if (refusedDate(item)) return;
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

// A detail sent with the file was refused: mark that field above, with the
// archive's message, so it can be put right before "Try again" (which then
// sends the field's new value). The form was emptied when the file was
// added: the refused value goes back into it, to be corrected.
function markField(item, err) {
  item.badField = err.field;
  if (!view) return;
  const field = view.form.elements.namedItem(err.field);
  if (!field || !('value' in field)) return;
  const sent = item.fields[err.field] ?? (err.field === 'recorded_date' ? item.defaultDate : null) ?? '';
  if (sent && !field.value.trim()) field.value = sent;
  if (field.value.trim() !== sent) return; // already changed since this file was sent
  // Several files of one batch fail the same way: move the focus only once.
  showApiFieldError(view.form, err, { focus: field.getAttribute('aria-invalid') !== 'true' });
}

// Sending the person to sign in at once would lose the list of what was
// saved, so the page stops the queue and offers the sign-in link instead.
// What was sent is kept: after signing in, "Try again" continues it.
function sessionEnded(item) {
  sessionOver = true;
  end(item, 'failed', 'Not saved: your session has ended', retryButton(item));
  for (const waiting of queue.splice(0)) end(waiting, 'failed', 'Not uploaded: your session has ended', retryButton(waiting));
  tell('Your session has ended. Sign in again, then upload the files that were not saved.', 'error',
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
  releaseDocument();
}

// updateOverall writes "2 of 3 files, 340 MB of 900 MB" for the batch;
// cancelled files leave it.
function updateOverall() {
  if (!view) return;
  const rows = batch.filter((i) => i.state !== 'cancelled');
  if (!rows.length) {
    view.overall.textContent = '';
    return;
  }
  const isDone = (i) => i.state === 'done' || i.state === 'duplicate';
  const done = rows.filter(isDone).length;
  const total = rows.reduce((n, i) => n + i.file.size, 0);
  const sent = rows.reduce((n, i) => n + (isDone(i) ? i.file.size : Math.min(i.sent, i.file.size)), 0);
  view.overall.textContent = `${done} of ${rows.length} file${rows.length === 1 ? '' : 's'}, ${formatSize(sent)} of ${formatSize(total)}`;
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
  tell(`Uploads finished: ${parts.join(', ')}.`, failed ? 'error' : 'success');
}
