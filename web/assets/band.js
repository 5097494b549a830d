// band.js: the band page (/band). Every member sees who is in the band,
// when and by whose invite each joined, and how much each uploaded and
// scored. An admin also sees each member's email and the invite they used,
// and can disable or enable a member and make or unmake an admin.
import { api } from './api.js';
import { $, h, say, formatDateTime } from './ui.js';

// "2026-12-01T20:00:00Z" → "1 Dec 2026" in the reader's locale.
const formatDay = (iso) => new Date(iso).toLocaleDateString(undefined, { dateStyle: 'medium' });

// How often an open band page asks again, so that counts stay current and
// a member who was disabled meanwhile is sent to sign in.
const REFRESH_MS = 60_000;

export default async function mount({ main, me, signal }) {
  const isAdmin = me.user.role === 'admin';
  const rows = $('#band-rows', main);
  const dialog = $('#confirm-disable', main);
  let busy = false;

  const columns = ['Member', 'Joined', 'Invited by', 'Recordings', 'Scored', 'Role'];
  if (isAdmin) columns.push('Invite used', 'Change');
  $('#band-columns', main).replaceChildren(...columns.map((c) =>
    h('th', { scope: 'col', class: c === 'Recordings' || c === 'Scored' ? 'num' : null }, c)));
  $('#band-admin-note', main).hidden = !isAdmin;

  function roleCell(m) {
    return h('td', { 'data-label': 'Role' },
      h('span', { class: `badge ${m.role === 'admin' ? 'used' : 'pending'}` }, m.role === 'admin' ? 'Admin' : 'Member'),
      m.disabled_at ? [' ', h('span', { class: 'badge revoked' }, 'Disabled')] : null,
      m.disabled_at ? h('span', { class: 'muted' }, ` since ${formatDateTime(m.disabled_at)}`) : null);
  }

  function inviteCell(m) {
    const inv = m.invite;
    if (!inv) return h('td', { 'data-label': 'Invite used', class: 'muted' }, 'None');
    return h('td', { 'data-label': 'Invite used' },
      `Made by ${inv.created_by.display_name} on ${formatDateTime(inv.created_at)}, `,
      `used with ${inv.email} on ${formatDateTime(inv.used_at)}`);
  }

  function actionsCell(m, activeAdmins) {
    const name = m.display_name || m.email;
    const self = m.id === me.user.id;
    const lastAdmin = m.role === 'admin' && !m.disabled_at && activeAdmins <= 1;
    const buttons = [];
    if (m.role === 'admin') {
      buttons.push(lastAdmin
        ? h('span', { class: 'muted' }, 'The only active admin')
        : h('button', { type: 'button', 'data-action': 'member', 'aria-label': `Remove admin: ${name}` }, 'Remove admin'));
    } else {
      buttons.push(h('button', { type: 'button', 'data-action': 'admin', 'aria-label': `Make admin: ${name}` }, 'Make admin'));
    }
    if (self) buttons.push(h('span', { class: 'muted' }, 'This is you'));
    else if (m.disabled_at) buttons.push(h('button', { type: 'button', 'data-action': 'enable', 'aria-label': `Enable ${name}` }, 'Enable'));
    else buttons.push(h('button', { type: 'button', class: 'danger', 'data-action': 'disable', 'aria-label': `Disable ${name}` }, 'Disable…'));
    return h('td', { 'data-label': 'Change' }, h('div', { class: 'actions' }, buttons));
  }

  function row(m, activeAdmins) {
    const you = m.id === me.user.id;
    const tr = h('tr', { class: `member${m.disabled_at ? ' disabled' : ''}`, 'data-id': m.id },
      h('th', { scope: 'row' },
        m.display_name || m.email || 'Unnamed member',
        you ? h('span', { class: 'muted' }, ' (you)') : null,
        isAdmin && m.email ? [h('br'), h('span', { class: 'muted' }, m.email)] : null),
      h('td', { 'data-label': 'Joined' }, formatDay(m.joined_at)),
      h('td', { 'data-label': 'Invited by' }, m.invited_by ? m.invited_by.display_name : h('span', { class: 'muted' }, '—')),
      h('td', { 'data-label': 'Recordings', class: 'num' }, String(m.recordings)),
      h('td', { 'data-label': 'Scored', class: 'num' }, String(m.scores)),
      roleCell(m),
      isAdmin ? inviteCell(m) : null,
      isAdmin ? actionsCell(m, activeAdmins) : null);
    for (const b of tr.querySelectorAll('button[data-action]')) {
      b.addEventListener('click', () => act(m, b.dataset.action), { signal });
    }
    return tr;
  }

  function summary(members, activeAdmins) {
    const active = members.filter((m) => !m.disabled_at).length;
    const disabled = members.length - active;
    return `${active} active member${active === 1 ? '' : 's'}` +
      (disabled ? `, ${disabled} disabled` : '') +
      `; ${activeAdmins} admin${activeAdmins === 1 ? '' : 's'}.`;
  }

  let drawn = ''; // the answer the rows show: an unchanged one is not redrawn
  async function load() {
    const data = await api('/api/band', { signal });
    const members = data.members || [];
    const answer = JSON.stringify(data);
    if (answer === drawn) return; // a redraw would take a keyboard user's focus
    drawn = answer;
    rows.replaceChildren(...members.map((m) => row(m, data.active_admins)));
    $('#band-summary', main).textContent = summary(members, data.active_admins);
    $('#band-list', main).hidden = false;
  }

  async function refresh() {
    if (busy || document.visibilityState === 'hidden') return;
    try {
      await load();
    } catch (err) {
      if (err.name !== 'AbortError') say(err.message, 'error');
    }
  }

  // confirmDisable asks before a member is disabled; it resolves true
  // when the admin confirms.
  function confirmDisable(m) {
    const name = m.display_name || m.email;
    $('#confirm-title', main).textContent = `Disable ${name}?`;
    $('#confirm-text', main).textContent = `${name} is signed out on every device at once, their sign-in links stop working and their scores stop counting. Their recordings stay, and you can enable them again later.`;
    $('#confirm-yes', main).textContent = `Disable ${name}`;
    dialog.returnValue = '';
    dialog.showModal();
    return new Promise((resolve) => {
      dialog.addEventListener('close', () => resolve(dialog.returnValue === 'disable'), { once: true, signal });
    });
  }

  const CHANGES = {
    admin: { json: { role: 'admin' }, done: (n) => `${n} is now an admin.` },
    member: { json: { role: 'member' }, done: (n) => `${n} is no longer an admin.` },
    disable: { json: { disabled: true }, done: (n) => `${n} is disabled and signed out everywhere.` },
    enable: { json: { disabled: false }, done: (n) => `${n} is enabled again and can sign in.` },
  };

  async function act(m, action) {
    const change = CHANGES[action];
    const name = m.display_name || m.email;
    if (action === 'disable' && !(await confirmDisable(m))) {
      rows.querySelector(`tr[data-id="${m.id}"] button[data-action="disable"]`)?.focus();
      return;
    }
    busy = true;
    for (const b of rows.querySelectorAll('button')) b.disabled = true;
    try {
      await api(`/api/band/members/${encodeURIComponent(m.id)}`, { method: 'PATCH', json: change.json, signal });
      say(change.done(name), 'success');
      if (m.id === me.user.id && action === 'member') {
        location.reload(); // no longer an admin: the page and the nav change
        return;
      }
    } catch (err) {
      if (err.name === 'AbortError') return;
      say(err.message, 'error');
    } finally {
      busy = false;
    }
    try {
      await load();
    } catch (err) {
      if (err.name !== 'AbortError') say(err.message, 'error');
      return;
    }
    // The row was drawn again: keep the focus on it.
    const tr = rows.querySelector(`tr[data-id="${m.id}"]`);
    (tr?.querySelector('button[data-action]') || $('#band-heading', main)).focus();
  }

  try {
    await load();
  } catch (err) {
    if (err.name !== 'AbortError') say(err.message, 'error');
  }
  if (signal.aborted) return; // left while the list loaded: no timer to stop
  window.addEventListener('focus', refresh, { signal });
  document.addEventListener('visibilitychange', refresh, { signal });
  const timer = setInterval(refresh, REFRESH_MS);
  signal.addEventListener('abort', () => clearInterval(timer), { once: true });
}
