// api.js: a small fetch wrapper for the archive's JSON API.
// Every error becomes an ApiError carrying the HTTP status, the server's
// error code and its message (written for people, so pages show it as is),
// and, when one input was wrong, the name of that form field (ui.js's
// showApiFieldError marks it).

export class ApiError extends Error {
  constructor(status, code, message, body = null, headers = null) {
    super(message);
    this.name = 'ApiError';
    this.status = status; // 0 when the server could not be reached
    this.code = code;
    this.body = body; // the whole error body, e.g. body.error.existing_id
    // The invalid input, named as the form field (title, venue, email…), or null.
    this.field = (body && body.error && typeof body.error.field === 'string' && body.error.field) || null;
    this.headers = headers;
  }
}

// Used when an answer has no JSON message (a proxy's HTML error page, say).
const FALLBACK = {
  0: 'Could not reach the archive. Check your connection and try again.',
  400: 'Something in the request was not right. Please check and try again.',
  401: 'Your session has ended. Please sign in again.',
  403: 'You are not allowed to do that.',
  404: 'Not found.',
  409: 'That conflicts with something already in the archive.',
  413: 'That is too large for the archive.',
  415: 'That kind of file is not accepted.',
  429: 'Too many attempts. Please wait a little and try again.',
};

export function fallbackMessage(status) {
  return FALLBACK[status] || 'The archive is having trouble right now. Please try again in a moment.';
}

// Turns a failed response's parsed body into an ApiError.
export function errorFrom(status, body, headers = null) {
  const e = (body && body.error) || {};
  return new ApiError(status, e.code || `http_${status}`, e.message || fallbackMessage(status), body, headers);
}

// The session ended while a member page was open: send the person to sign in
// again, saying why. Only /api/ calls do this; the sign-in pages handle their own answers.
export function sessionEnded() {
  for (const keep of beforeSignIn) {
    try { keep(); } catch { /* keeping a draft must not stop the sign-in */ }
  }
  location.assign(signInURL({ expired: true }));
}

// Pages register what to keep (an unsaved edit, say) before the session's
// end sends the person to sign in; a page's registration ends with its
// signal, when the member moves to another page.
const beforeSignIn = new Set();
export function onSessionEnd(keep, signal) {
  beforeSignIn.add(keep);
  signal?.addEventListener('abort', () => beforeSignIn.delete(keep), { once: true });
}

// The sign-in page's address, carrying this page (path, filters and
// position) so that signing in comes back to it.
export function signInURL({ expired = false } = {}) {
  const params = new URLSearchParams();
  if (expired) params.set('expired', '1');
  const here = location.pathname + location.search + location.hash;
  if (here !== '/') params.set('next', here);
  const q = params.toString();
  return q ? `/login?${q}` : '/login';
}

// recordingPath is a recording's address in the API.
export const recordingPath = (id) => `/api/recordings/${encodeURIComponent(id)}`;

/**
 * api('/api/recordings', { method: 'PATCH', json: {...} }) → parsed JSON, or null for 204.
 * Options: json (body to send), signal (AbortController), redirectOn401 (default true).
 */
export async function api(path, { method = 'GET', json, signal, redirectOn401 = true } = {}) {
  const init = { method, credentials: 'same-origin', headers: { Accept: 'application/json' }, signal };
  if (json !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(json);
  }
  let res;
  try {
    res = await fetch(path, init);
  } catch (err) {
    if (err.name === 'AbortError') throw err; // the caller cancelled on purpose
    throw new ApiError(0, 'network', fallbackMessage(0));
  }
  if (res.status === 204) return null;
  const body = await res.json().catch(() => null);
  if (res.ok) return body;
  if (res.status === 401 && redirectOn401 && path.startsWith('/api/')) sessionEnded();
  throw errorFrom(res.status, body, res.headers);
}
