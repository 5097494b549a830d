// tus.js: a small client for the archive's resumable uploads, tus 1.0.0
// (tus.io/protocols/resumable-upload, core and creation, termination).
//
// A file is created with POST /api/uploads, then sent with PATCH in
// chunks sized to the line: each request should take about 15 s at the
// speed measured so far (1 MiB to 16 MiB, never above what the server
// takes: a 413 halves the chunk). A dropped connection, a 5xx or a 423 is
// retried with backoff for as long as the page is open, always from the
// offset the server acknowledged (HEAD first). Where each upload is, is
// kept in localStorage by the file's name, size and date, so choosing the
// same file after a reload or a crash can resume it.

import { ApiError, errorFrom, fallbackMessage } from './api.js';

export const TUS_VERSION = '1.0.0';
export const ENDPOINT = '/api/uploads';

const MiB = 1024 * 1024;
export const MIN_CHUNK = MiB;
export const MAX_CHUNK = 16 * MiB;
const TARGET_SECONDS = 15; // one PATCH should take about this long
const FLOOR_CHUNK = 64 * 1024; // halving after 413s stops here
const BACKOFF = [1, 2, 4, 8, 16, 30]; // seconds between retries, then 30 s on
const REQUEST_MS = 30_000; // OPTIONS, POST, HEAD, DELETE
const STALL_MS = 60_000; // a PATCH whose bytes stop moving this long is dead
const ANSWER_MS = 10 * 60_000; // after the last byte: the archive checks the file

// The largest chunk the server took or did not refuse; lowered by a 413,
// shared by every upload of the page so the next file does not ask again.
let serverMaxChunk = MAX_CHUNK;

const abortError = () => new DOMException('The upload was stopped.', 'AbortError');

// ---------- requests ----------

// headersOf reads an XMLHttpRequest's response headers into Headers.
function headersOf(xhr) {
  const out = new Headers();
  for (const line of xhr.getAllResponseHeaders().trim().split(/[\r\n]+/)) {
    const i = line.indexOf(':');
    if (i > 0) {
      try { out.append(line.slice(0, i).trim(), line.slice(i + 1).trim()); } catch { /* a header fetch would not take */ }
    }
  }
  return out;
}

function networkError(message = fallbackMessage(0)) {
  return new ApiError(0, 'network', message);
}

// request sends one tus request with fetch: the answer when it is 2xx,
// else an ApiError (status 0 when the archive could not be reached), or an
// AbortError when signal stops it.
async function request(method, url, { headers = {}, signal, timeout = REQUEST_MS } = {}) {
  if (signal?.aborted) throw abortError();
  const ctl = new AbortController();
  const stop = () => ctl.abort();
  signal?.addEventListener('abort', stop, { once: true });
  const timer = setTimeout(stop, timeout);
  let res;
  try {
    res = await fetch(url, {
      method,
      credentials: 'same-origin',
      cache: 'no-store',
      headers: { 'Tus-Resumable': TUS_VERSION, Accept: 'application/json', ...headers },
      signal: ctl.signal,
    });
  } catch {
    throw signal?.aborted ? abortError() : networkError();
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', stop);
  }
  if (res.ok) return res;
  const body = method === 'HEAD' ? null : await res.json().catch(() => null);
  throw errorFrom(res.status, body, res.headers);
}

// patch sends blob at offset with XMLHttpRequest, whose upload progress
// events let the bar move within a chunk. onProgress(bytes of blob sent);
// onSent() once the last byte left.
function patch(url, offset, blob, { signal, onProgress, onSent }) {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) { reject(abortError()); return; }
    const xhr = new XMLHttpRequest();
    let timer = 0;
    let settled = false;
    const settle = (fn, value) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', stop);
      fn(value);
    };
    // A connection can die without an error (a laptop closed, a router
    // gone): a request whose bytes stop moving is given up and retried.
    const watch = (ms) => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        settle(reject, networkError('The connection stalled.'));
        xhr.abort();
      }, ms);
    };
    const stop = () => {
      settle(reject, abortError());
      xhr.abort();
    };
    signal?.addEventListener('abort', stop, { once: true });

    xhr.open('PATCH', url);
    xhr.setRequestHeader('Tus-Resumable', TUS_VERSION);
    xhr.setRequestHeader('Upload-Offset', String(offset));
    xhr.setRequestHeader('Content-Type', 'application/offset+octet-stream');
    xhr.setRequestHeader('Accept', 'application/json');
    xhr.upload.onprogress = (e) => {
      watch(STALL_MS);
      onProgress?.(Math.min(e.loaded, blob.size));
    };
    xhr.upload.onload = () => {
      watch(ANSWER_MS);
      onProgress?.(blob.size);
      onSent?.();
    };
    xhr.onload = () => {
      const headers = headersOf(xhr);
      if (xhr.status >= 200 && xhr.status < 300) {
        settle(resolve, headers);
        return;
      }
      let body = null;
      try { body = JSON.parse(xhr.responseText); } catch { /* not JSON: the fallback message */ }
      settle(reject, errorFrom(xhr.status, body, headers));
    };
    xhr.onerror = () => settle(reject, networkError());
    xhr.ontimeout = () => settle(reject, networkError());
    xhr.onabort = () => settle(reject, abortError());
    watch(blob.size ? STALL_MS : ANSWER_MS); // an empty PATCH only finishes the upload
    xhr.send(blob);
  });
}

// tagged marks an error with the step it came from: a 413 or a 404 means
// different things at creation and in a PATCH.
const tagged = (step) => (err) => {
  if (err && typeof err === 'object' && err.name !== 'AbortError') err.step = step;
  throw err;
};

// powerOfTwoBelow(n) is the largest power of two under n, so halving
// after a 413 lands on the limits servers have (1, 4, 16 MiB…) rather than
// just under them: 4 MB + 44 bytes → 4 MiB, 4 MiB → 2 MiB.
function powerOfTwoBelow(n) {
  let p = 1;
  while (p * 2 < n) p *= 2;
  return p;
}

// retryable errors are the line's or the server's passing trouble.
export function retryable(err) {
  const s = err?.status;
  return s === 0 || s === 408 || s === 423 || (s >= 500 && s <= 599);
}

// ---------- what the server allows ----------

let limits = null;

/** serverLimits() → { maxSize } (bytes, null when the server does not say), from OPTIONS; asked once per page. */
export function serverLimits() {
  limits ??= request('OPTIONS', ENDPOINT).then((res) => {
    const max = Number(res.headers.get('Tus-Max-Size'));
    return { maxSize: Number.isSafeInteger(max) && max > 0 ? max : null };
  }).catch((err) => {
    limits = null; // ask again next time
    throw err;
  });
  return limits;
}

// Sizes for people as the archive writes its limit (limits.HumanBytes):
// MB and KB of 1024, so 500 << 20 bytes reads "500 MB".
export function formatLimit(bytes) {
  return bytes >= MiB ? `${Math.floor(bytes / MiB)} MB` : `${Math.ceil(bytes / 1024)} KB`;
}

// ---------- metadata ----------

function base64(text) {
  const bytes = new TextEncoder().encode(text);
  let bin = '';
  for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(bin);
}

// What Upload-Metadata may take: it is one header, and proxies cap those
// (Nginx at 8 KB a line, API Gateway at 10 KB for them all, cookie
// included). A longer field is better sent another way.
export const METADATA_BUDGET = 4096;

/** encodeMetadata({ filename: 'a.wav', venue: 'Köln' }) → 'filename YS53YXY=,venue S8O2bG4=' (empty values left out). */
export function encodeMetadata(meta) {
  return Object.entries(meta)
    .filter(([, v]) => v !== undefined && v !== null && String(v) !== '')
    .map(([k, v]) => `${k} ${base64(String(v))}`)
    .join(',');
}

// ---------- uploads remembered across reloads ----------

const STORE = 'bandarchive.tus-uploads';
const DAY_MS = 24 * 3600 * 1000;

/** fingerprint(file): the same file chosen again gives the same key. */
export function fingerprint(file) {
  return JSON.stringify([file.name, file.size, file.lastModified]);
}

function readStore() {
  let all = {};
  try {
    const parsed = JSON.parse(localStorage.getItem(STORE) || '{}');
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) all = parsed;
  } catch { /* unreadable, or storage is off: nothing remembered */ }
  // Forget what the server has forgotten too (Upload-Expires).
  const now = Date.now();
  for (const [key, e] of Object.entries(all)) {
    const expires = Date.parse(e?.expires || '') || (Number(e?.saved) || 0) + DAY_MS;
    if (!e || typeof e.url !== 'string' || expires < now) delete all[key];
  }
  return all;
}

function writeStore(all) {
  try {
    if (Object.keys(all).length) localStorage.setItem(STORE, JSON.stringify(all));
    else localStorage.removeItem(STORE);
  } catch { /* private mode or full: resuming after a reload is not offered */ }
}

function remember(file, url, expires) {
  const all = readStore();
  all[fingerprint(file)] = { url, name: file.name, size: file.size, expires: expires || '', saved: Date.now() };
  writeStore(all);
}

/** remembered(file) → { url, name, size, expires } of an unfinished upload of this file, or null. */
export function remembered(file) {
  return readStore()[fingerprint(file)] || null;
}

/** unfinishedUploads() → [{ key, url, name, size }] this browser started and did not finish. */
export function unfinishedUploads() {
  return Object.entries(readStore()).map(([key, e]) => ({ key, ...e }));
}

/** forget(file or key): no longer offer to resume it. */
export function forget(fileOrKey) {
  const key = typeof fileOrKey === 'string' ? fileOrKey : fingerprint(fileOrKey);
  const all = readStore();
  if (key in all) {
    delete all[key];
    writeStore(all);
  }
}

// ---------- one upload ----------

function finishedFrom(headers) {
  const id = headers.get('Recording-Id');
  return id ? { recordingId: id, duplicate: headers.get('Recording-Duplicate') === 'true' } : null;
}

/**
 * status(url) → where an upload stands: { offset, length, recordingId,
 * duplicate }, or null when the server no longer has it (404). Other
 * errors are thrown.
 */
export async function status(url, { signal } = {}) {
  let res;
  try {
    res = await request('HEAD', url, { signal });
  } catch (err) {
    if (err.status === 404) return null;
    throw err;
  }
  const offset = Number(res.headers.get('Upload-Offset'));
  const length = Number(res.headers.get('Upload-Length'));
  if (!Number.isSafeInteger(offset) || offset < 0) throw new ApiError(502, 'bad_answer', 'The archive did not say where the upload stands.');
  return { offset, length, ...(finishedFrom(res.headers) || { recordingId: null, duplicate: false }) };
}

/**
 * terminate(url): cancel an upload on the server, so it does not count
 * against the member's unfinished uploads. A request just stopped may still
 * hold it (423) for a moment: a few tries. Best effort: unfinished uploads
 * expire anyway.
 */
export async function terminate(url) {
  for (const seconds of [1, 2, 4, 0]) {
    try {
      await request('DELETE', url);
      return;
    } catch (err) {
      if (!retryable(err) || !seconds) return;
      await new Promise((resolve) => { setTimeout(resolve, seconds * 1000); });
    }
  }
}

/**
 * new TusUpload(file, { metadata, url, onProgress, onStatus })
 *  - metadata: the recording's fields (title, venue…); filename is the file's.
 *  - url: an upload to resume (from remembered()); null creates one.
 *  - onProgress(bytes): how much of the file the server has, or is being sent.
 *  - onStatus({ state, seconds, error }): 'creating', 'resuming', 'uploading',
 *    'finishing' (the last byte is sent, the archive checks the file),
 *    'retrying' (every second of the wait, with the error), 'restarting'
 *    (the server no longer had it: from the start).
 * start() resolves { recordingId, duplicate } once the file is a recording,
 * rejects with an ApiError a retry will not change (400, 401, 413, 415,
 * 429…), or with an AbortError after pause() or cancel(). After a pause,
 * start() again continues from the server's offset.
 */
export class TusUpload {
  constructor(file, { metadata = {}, url = null, onProgress = () => {}, onStatus = () => {} } = {}) {
    this.file = file;
    this.metadata = metadata;
    this.url = url;
    this.offset = null; // what the server acknowledged; null: ask it (HEAD)
    this.chunk = MIN_CHUNK;
    this.rate = 0; // bytes per second, measured over the chunks sent
    this.sending = 0; // the size of the last chunk sent
    this.onProgress = onProgress;
    this.onStatus = onStatus;
    this.controller = null;
    this.wakeUp = null;
  }

  get running() {
    return this.controller !== null;
  }

  async start() {
    if (this.controller) throw new Error('This upload is already running.');
    const controller = new AbortController();
    this.controller = controller;
    try {
      return await this.#run(controller.signal);
    } finally {
      if (this.controller === controller) this.controller = null;
    }
  }

  /** pause() stops the request in flight (or the wait before a retry). */
  pause() {
    this.controller?.abort();
  }

  /** cancel() stops it and deletes what the server has. */
  async cancel() {
    this.pause();
    forget(this.file);
    const { url } = this;
    this.url = null;
    this.offset = null;
    if (url) await terminate(url);
  }

  /** wake() cuts a wait before a retry short (the browser is online again). */
  wake() {
    this.wakeUp?.();
  }

  async #run(signal) {
    let failures = 0; // in a row, for the backoff
    let conflicts = 0;
    let restarts = 0;
    for (;;) {
      try {
        if (!this.url) await this.#create(signal);
        if (this.offset === null) {
          const done = await this.#head(signal);
          if (done) return done;
        }
        const done = await this.#send(signal);
        failures = 0;
        conflicts = 0;
        if (done) return done;
      } catch (err) {
        if (signal.aborted || err?.name === 'AbortError') {
          // Stopped on purpose; the server may have kept part of a chunk:
          // resuming asks it where the upload stands.
          if (this.url) this.offset = null;
          throw abortError();
        }
        if (!(err instanceof ApiError)) throw err; // a bug, not the network
        if (err.status === 409 && ++conflicts <= 3) {
          this.offset = null; // not where the server is: ask it, continue from there
          continue;
        }
        if (err.status === 404 && err.step !== 'create' && restarts++ < 2) {
          // Expired or gone: the whole file again, as a new upload.
          forget(this.file);
          this.url = null;
          this.offset = null;
          this.onProgress(0);
          this.onStatus({ state: 'restarting' });
          continue;
        }
        if (err.status === 413 && err.step === 'patch' && this.sending > FLOOR_CHUNK) {
          // More than the server takes in one request: about half of it.
          serverMaxChunk = Math.max(FLOOR_CHUNK, Math.min(serverMaxChunk, powerOfTwoBelow(this.sending)));
          continue;
        }
        if (!retryable(err)) {
          if (err.status === 415 || err.status === 404) forget(this.file); // the server deleted it
          throw err;
        }
        if (err.step === 'patch') {
          // A chunk that did not get through: send less at a time.
          this.chunk = Math.max(MIN_CHUNK, Math.floor(this.sending / 2));
          this.rate /= 2;
        }
        if (this.url) this.offset = null; // resume from what the server acknowledged
        await this.#wait(BACKOFF[Math.min(failures++, BACKOFF.length - 1)], err, signal);
      }
    }
  }

  async #create(signal) {
    this.onStatus({ state: 'creating' });
    const res = await request('POST', ENDPOINT, {
      signal,
      headers: {
        'Upload-Length': String(this.file.size),
        'Upload-Metadata': encodeMetadata({ filename: this.file.name, ...this.metadata }),
      },
    }).catch(tagged('create'));
    const location = res.headers.get('Location');
    if (!location) throw new ApiError(502, 'bad_answer', 'The archive did not say where the upload is.');
    this.url = new URL(location, window.location.href).pathname;
    this.offset = 0;
    remember(this.file, this.url, res.headers.get('Upload-Expires'));
  }

  async #head(signal) {
    this.onStatus({ state: 'resuming' });
    const where = await status(this.url, { signal }).catch(tagged('head'));
    if (!where || (where.length && where.length !== this.file.size)) {
      // Gone, or another file's (two files alike in name, size and date).
      throw Object.assign(new ApiError(404, 'not_found', 'The archive no longer has this upload.'), { step: 'head' });
    }
    this.offset = where.offset;
    this.onProgress(where.offset);
    if (where.recordingId) {
      forget(this.file);
      return { recordingId: where.recordingId, duplicate: where.duplicate };
    }
    return null;
  }

  // #send sends the next chunk (an empty one when the server has every
  // byte but did not finish) and returns the result once it is a recording.
  async #send(signal) {
    const start = this.offset;
    const size = this.file.size;
    const end = Math.min(size, start + Math.max(1, Math.min(this.chunk, serverMaxChunk)));
    const blob = this.file.slice(start, end);
    this.sending = end - start;
    this.onStatus({ state: end === size && start === size ? 'finishing' : 'uploading' });
    const began = performance.now();
    const headers = await patch(this.url, start, blob, {
      signal,
      onProgress: (n) => this.onProgress(start + n),
      onSent: () => { if (end === size) this.onStatus({ state: 'finishing' }); },
    }).catch(tagged('patch'));
    this.#measure(end - start, (performance.now() - began) / 1000);
    const offset = Number(headers.get('Upload-Offset'));
    this.offset = Number.isSafeInteger(offset) && offset >= 0 ? offset : null;
    if (this.offset !== null) this.onProgress(this.offset);
    const done = finishedFrom(headers);
    if (done) {
      forget(this.file);
      return done;
    }
    if (this.offset !== null) remember(this.file, this.url, headers.get('Upload-Expires'));
    return null;
  }

  // #measure sizes the next chunk to take about TARGET_SECONDS at the
  // speed measured: quick to shrink when the line slows, smoothed to grow.
  #measure(bytes, seconds) {
    if (bytes < FLOOR_CHUNK || seconds <= 0) return; // too little to tell
    const rate = bytes / seconds;
    this.rate = this.rate ? Math.min(rate, (this.rate + rate) / 2) : rate;
    this.chunk = Math.min(MAX_CHUNK, Math.max(MIN_CHUNK, Math.floor(this.rate * TARGET_SECONDS)));
  }

  // #wait waits seconds before a retry, telling onStatus every second.
  #wait(seconds, error, signal) {
    return new Promise((resolve, reject) => {
      let left = seconds;
      let timer = 0;
      const done = () => {
        clearInterval(timer);
        signal.removeEventListener('abort', stopped);
        this.wakeUp = null;
      };
      const stopped = () => { done(); reject(abortError()); };
      this.wakeUp = () => { done(); resolve(); };
      signal.addEventListener('abort', stopped, { once: true });
      this.onStatus({ state: 'retrying', seconds: left, error });
      timer = setInterval(() => {
        left -= 1;
        if (left <= 0) { done(); resolve(); } else this.onStatus({ state: 'retrying', seconds: left, error });
      }, 1000);
    });
  }
}
