// login.js: ask for a magic sign-in link (POST /auth/send-link).
import { api } from './api.js';
import { $, say, formatWait } from './ui.js';

const form = $('#login-form');
const email = $('#email');
const button = $('#send-link');
const fieldError = $('#email-error');

if (new URLSearchParams(location.search).get('expired') === '1') $('#expired').hidden = false;
email.focus();

function showFieldError(message) {
  fieldError.textContent = message;
  email.setAttribute('aria-invalid', message ? 'true' : 'false');
}

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  showFieldError('');
  const value = email.value.trim();
  if (!value || !email.checkValidity()) {
    showFieldError('Please enter your email address, like name@example.org.');
    email.focus();
    return;
  }
  button.disabled = true;
  say('Sending…');
  try {
    const res = await api('/auth/send-link', { method: 'POST', json: { email: value } });
    say(res?.message || 'If that address belongs to a member, a sign-in link is on its way. Check your mail.', 'success');
  } catch (err) {
    if (err.status === 400) {
      showFieldError(err.message);
      say('');
      email.focus();
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
