// account.js: my account (/account): my display name, and the devices I am
// signed in on, each of which I can sign out, or all but this one.
import { api, signInURL } from './api.js';
import * as nav from './nav.js';
import { forget } from './player.js';
import { $, h, say, formatDateTime, showApiFieldError, clearFieldErrors } from './ui.js';

export default async function mount({ main, me, signal }) {
  const form = $('#name-form', main);
  const input = $('#display-name', main);
  const rows = $('#device-rows', main);
  const others = $('#sign-out-others', main);

  function deviceRow(d) {
    const label = d.current ? `${d.name} (this device)` : d.name;
    const out = h('button', { type: 'button', class: d.current ? null : 'danger', 'aria-label': `Sign out ${label}, last seen ${formatDateTime(d.last_seen_at)}` },
      'Sign out');
    out.addEventListener('click', () => signOut(d, out), { signal });
    return h('tr', { class: d.current ? 'device current' : 'device', 'data-id': d.id },
      h('th', { scope: 'row' },
        h('strong', {}, d.name),
        d.current ? h('span', { class: 'badge used' }, 'This device') : null,
        h('br'),
        h('span', { class: 'muted ua' }, d.user_agent || 'No browser name was sent'),
        d.ip ? h('span', { class: 'muted' }, ` · from ${d.ip}`) : null),
      h('td', { 'data-label': 'Signed in' }, formatDateTime(d.created_at)),
      h('td', { 'data-label': 'Last seen' }, d.current ? 'Now' : formatDateTime(d.last_seen_at)),
      h('td', {}, out));
  }

  function show(account) {
    const devices = account.devices || [];
    rows.replaceChildren(...devices.map(deviceRow));
    others.hidden = devices.filter((d) => !d.current).length === 0;
    $('#account-email', main).textContent = account.user.email;
  }

  async function load() {
    const account = await api('/api/account', { signal });
    input.value = account.user.display_name;
    show(account);
  }

  async function signOut(d, button) {
    button.disabled = true;
    try {
      await api(`/api/account/sessions/${encodeURIComponent(d.id)}`, { method: 'DELETE', signal });
      if (d.current) {
        forget(); // this tab's player goes with the session
        location.assign(signInURL()); // this browser is signed out now
        return;
      }
      say(`${d.name} is signed out.`, 'success');
      show(await api('/api/account', { signal }));
      $('#devices-heading', main).focus(); // the row and its button are gone
    } catch (err) {
      if (err.name === 'AbortError') return;
      button.disabled = false;
      say(err.message, 'error');
    }
  }

  others.addEventListener('click', async () => {
    others.disabled = true;
    try {
      const out = await api('/api/account/sign-out-others', { method: 'POST', signal });
      const n = out.signed_out;
      say(n ? `${n} other device${n === 1 ? ' is' : 's are'} signed out. This one stays signed in.` : 'No other device was signed in.', 'success');
      show(await api('/api/account', { signal }));
      $('#devices-heading', main).focus();
    } catch (err) {
      if (err.name !== 'AbortError') say(err.message, 'error');
    } finally {
      others.disabled = false;
    }
  }, { signal });

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearFieldErrors(form);
    const button = $('#save-name', main);
    button.disabled = true;
    try {
      const account = await api('/api/account', { method: 'PATCH', json: { display_name: input.value }, signal });
      input.value = account.user.display_name;
      me.user.display_name = account.user.display_name;
      nav.showName?.(account.user.display_name);
      show(account);
      say('Your name is saved.', 'success');
    } catch (err) {
      if (err.name === 'AbortError') return;
      if (!showApiFieldError(form, err)) say(err.message, 'error');
    } finally {
      button.disabled = false;
    }
  }, { signal });

  try {
    await load();
  } catch (err) {
    if (err.name !== 'AbortError') say(err.message, 'error');
  }
}
