// join.js: the invite page (/join/{token}). Checks the invite, then asks for
// email and name; the account is made when the mailed link is opened.
import { api } from './api.js';
import {
  $, say, formatDateTime, formatWait, showFieldError, showApiFieldError, clearFieldErrors,
} from './ui.js';

// The token is the path segment after /join/; it never leaves this page
// except in the two requests to /auth/join/{token}.
const token = location.pathname.split('/')[2] || '';
const endpoint = `/auth/join/${encodeURIComponent(token)}`;

const title = $('#join-title');
const form = $('#join-form');
const error = $('#join-error');
const submit = $('#join-submit');

function invalid() {
  title.textContent = 'This invite is not valid';
  form.hidden = true;
  $('#invalid').hidden = false;
}

async function check() {
  if (!token) return invalid();
  try {
    const info = await api(endpoint);
    const app = info.app_name || 'bandarchive';
    $('#app-name').textContent = app;
    document.title = `Join ${app}`;
    title.textContent = `Join ${app}`;
    if (info.expires_at) $('#join-expiry').textContent = `This invite works until ${formatDateTime(info.expires_at)}.`;
    form.hidden = false;
    $('#join-name').focus();
  } catch (err) {
    if (err.status === 404) return invalid();
    title.textContent = 'Could not check this invite';
    say(err.message, 'error');
  }
}

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  error.textContent = '';
  clearFieldErrors(form);
  const name = $('#join-name');
  const email = $('#join-email');
  if (!name.value.trim()) return showFieldError(form, name.name, 'Please enter your name.');
  if (!email.value.trim() || !email.checkValidity()) {
    return showFieldError(form, email.name, 'Please enter your email address, like name@example.org.');
  }
  submit.disabled = true;
  try {
    const res = await api(endpoint, {
      method: 'POST',
      json: { email: email.value.trim(), display_name: name.value.trim() },
    });
    form.hidden = true;
    title.textContent = 'Check your mail';
    $('#sent-message').textContent = res?.message || 'A link to finish joining is on its way. Check your mail.';
    $('#sent').hidden = false;
    say('Link sent. Check your mail.', 'success');
  } catch (err) {
    if (err.status === 404) invalid();
    else if (err.status === 429) {
      const wait = Number(err.headers?.get('Retry-After'));
      error.textContent = wait > 0 ? `${err.message} You can try again in about ${formatWait(wait)}.` : err.message;
    } else if (!showApiFieldError(form, err)) error.textContent = err.message; // else shown beside the field
  } finally {
    submit.disabled = false;
  }
});

check();
