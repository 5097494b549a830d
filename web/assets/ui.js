// ui.js: small DOM and formatting helpers shared by the pages.

// h('a', { href: '/', class: 'title' }, 'text', otherNode) builds an element.
// Attributes starting with "on" become listeners; false/null/undefined are skipped.
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === false || v === null || v === undefined) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (k === 'text') el.textContent = v;
    else if (v === true) el.setAttribute(k, '');
    else el.setAttribute(k, String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : String(c));
  }
  return el;
}

export const $ = (sel, root = document) => root.querySelector(sel);

// svgIcon(d, cls) is a 24×24 icon of one path, hidden from screen readers:
// the control it sits in carries the name.
export function svgIcon(d, cls = null) {
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  if (cls) svg.setAttribute('class', cls);
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('focusable', 'false');
  const path = document.createElementNS(ns, 'path');
  path.setAttribute('d', d);
  svg.append(path);
  return svg;
}

// say() writes to the page's polite live region (#status). The region is
// emptied first and filled a moment later so that repeating the same message
// is announced again.
let sayTimer = 0;
export function say(message, kind = 'info', link = null) {
  const region = document.getElementById('status');
  if (!region) return;
  clearTimeout(sayTimer);
  // The region is emptied and refilled a moment later, so that a screen
  // reader announces a repeated message too; meanwhile it keeps its height,
  // or the page would jump up and back under the pointer.
  region.style.minHeight = `${region.offsetHeight}px`;
  region.textContent = '';
  region.className = `status ${kind}`;
  if (!message) { region.style.minHeight = ''; return; }
  sayTimer = setTimeout(() => {
    region.append(message);
    if (link) region.append(' ', h('a', { href: link.href }, link.text));
    region.style.minHeight = '';
  }, 60);
}

export function debounce(fn, ms) {
  let t = 0;
  return (...args) => { clearTimeout(t); t = setTimeout(() => fn(...args), ms); };
}

const pad = (n) => String(n).padStart(2, '0');

// 3725.4 → "1:02:05"; unknown → "—".
export function formatDuration(seconds) {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return '—';
  const s = Math.round(seconds);
  return `${Math.floor(s / 3600)}:${pad(Math.floor((s % 3600) / 60))}:${pad(s % 60)}`;
}

// Player clock: "4:05" under an hour, "1:02:05" above.
export function formatClock(seconds) {
  if (!Number.isFinite(seconds) || seconds < 0) seconds = 0;
  const s = Math.floor(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h ? `${h}:${pad(m)}:${pad(s % 60)}` : `${m}:${pad(s % 60)}`;
}

// "1999-03-12" → "12 Mar 1999" in the reader's locale. Read as UTC so that a
// calendar date never shifts by a day with the time zone.
export function formatDate(ymd) {
  if (!ymd) return '';
  const [y, m, d] = ymd.split('-').map(Number);
  if (!y || !m || !d) return ymd;
  return new Date(Date.UTC(y, m - 1, d)).toLocaleDateString(undefined, { dateStyle: 'medium', timeZone: 'UTC' });
}

export function formatDateTime(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

// Decimal units (1 MB = 1,000,000 bytes), like upload speeds in MB/s.
export function formatSize(bytes) {
  if (!Number.isFinite(bytes)) return '';
  if (bytes < 1000) return `${bytes} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let v = bytes / 1000;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) { v /= 1000; i++; }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}

// 95 → "2 minutes"; used for Retry-After and upload time left.
export function formatWait(seconds) {
  const s = Math.max(1, Math.ceil(seconds));
  if (s < 60) return `${s} second${s === 1 ? '' : 's'}`;
  const m = Math.ceil(s / 60);
  if (m < 60) return `${m} minute${m === 1 ? '' : 's'}`;
  const hrs = Math.floor(m / 60);
  const rest = m % 60;
  return `${hrs} hour${hrs === 1 ? '' : 's'}${rest ? ` ${rest} min` : ''}`;
}

// The wording the end-to-end tests look for, kept in one place.
export function scoredText(count, members) {
  return `${count ?? 0} of ${members ?? '?'} have scored this`;
}

export function recordingTitle(r) {
  return r.title || r.original_filename || 'Untitled recording';
}

// ---------- field errors ----------
// A field the archive (or the page) finds wrong is marked the same way on
// every page: aria-invalid="true" on the control, the message in an error
// element below it that the control's aria-describedby names (the page's
// own #<control id>-error if it has one, else one made here), and the
// focus moved to the control, so a screen reader reads its label, that it
// is invalid, its hint and the message. The marking goes when that field
// is edited, and for the whole form when the page calls clearFieldErrors
// as the form is sent again.

function fieldControl(form, name) {
  const el = name ? form.elements.namedItem(name) : null;
  return el instanceof HTMLInputElement || el instanceof HTMLTextAreaElement || el instanceof HTMLSelectElement ? el : null;
}

function fieldErrorId(el) {
  return `${el.id || `${el.form?.id || 'form'}-${el.name}`}-error`;
}

// The control's error element, made (below the field's hint) and linked
// from aria-describedby the first time it is needed.
function fieldErrorElement(el) {
  const id = fieldErrorId(el);
  let out = document.getElementById(id);
  if (!out) {
    out = h('p', { id, class: 'form-error field-error' });
    (el.closest('.field') || el.parentElement).append(out);
  }
  const ids = (el.getAttribute('aria-describedby') || '').split(/\s+/).filter(Boolean);
  if (!ids.includes(id)) el.setAttribute('aria-describedby', [...ids, id].join(' '));
  return out;
}

// Editing a marked field clears its marking: the person is putting it right.
const watchedForms = new WeakSet();
function watchEdits(form) {
  if (watchedForms.has(form)) return;
  watchedForms.add(form);
  const edited = (e) => {
    const el = e.target;
    if (el instanceof Element && el.getAttribute('aria-invalid') === 'true' && el.name) clearFieldErrors(form, el.name);
  };
  form.addEventListener('input', edited);
  form.addEventListener('change', edited);
}

/**
 * showFieldError(form, 'venue', 'The venue is too long…') marks the control
 * named "venue" in form. Returns false, marking nothing, when the form has
 * no such control, so the caller can show the message elsewhere.
 * Option focus (default true): move the focus to the control.
 */
export function showFieldError(form, name, message, { focus = true } = {}) {
  const el = fieldControl(form, name);
  if (!el) return false;
  watchEdits(form);
  el.setAttribute('aria-invalid', 'true');
  fieldErrorElement(el).textContent = message;
  if (focus) el.focus();
  return true;
}

// The API's error named a field of this form (err.field, see api.js): mark
// it with the server's message. False when it named none of this form's.
export function showApiFieldError(form, err, options) {
  return Boolean(err && err.field) && showFieldError(form, err.field, err.message, options);
}

// Clears the marking of the field named name, or of every field in form.
export function clearFieldErrors(form, name = null) {
  const controls = name ? [fieldControl(form, name)] : [...form.elements];
  for (const el of controls) {
    if (!el || !el.hasAttribute('aria-invalid')) continue;
    el.removeAttribute('aria-invalid');
    const msg = document.getElementById(fieldErrorId(el));
    if (msg) msg.textContent = '';
  }
}
