// login.js: ask for a magic sign-in link (POST /auth/send-link).
import { api } from './api.js';
import { $, say, formatWait, showFieldError, clearFieldErrors } from './ui.js';

const form = $('#login-form');
const email = $('#email');
const button = $('#send-link');

const params = new URLSearchParams(location.search);
if (params.get('expired') === '1') $('#expired').hidden = false;
// The page to come back to; the server accepts only a path of this site.
const next = params.get('next') || '';
email.focus();

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  clearFieldErrors(form);
  const value = email.value.trim();
  if (!value || !email.checkValidity()) {
    showFieldError(form, email.name, 'Please enter your email address, like name@example.org.');
    return;
  }
  button.disabled = true;
  say('Sending…');
  try {
    const res = await api('/auth/send-link', { method: 'POST', json: next ? { email: value, next } : { email: value } });
    say(res?.message || 'If that address belongs to a member, a sign-in link is on its way. Check your mail.', 'success');
  } catch (err) {
    // A refused request names the field that is wrong; email is the only one here.
    if (err.status === 400 && showFieldError(form, err.field || email.name, err.message)) {
      say('');
    } else if (err.status === 429) {
      const wait = Number(err.headers?.get('Retry-After'));
      say(wait > 0 ? `${err.message} You can try again in about ${formatWait(wait)}.` : err.message, 'error');
    } else {
      say(err.message, 'error');
    }
  } finally {
    button.disabled = false;
  }
});
