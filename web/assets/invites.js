// invites.js: the admin's invite page (/admin/invites): create, list, revoke.
import { api } from './api.js';
import { $, h, say, formatDateTime } from './ui.js';

const STATUS = { pending: 'Pending', used: 'Used', revoked: 'Revoked', expired: 'Expired' };

// The server sends status; derive it from the timestamps if it ever doesn't.
function statusOf(inv) {
  if (inv.status) return inv.status;
  if (inv.revoked_at) return 'revoked';
  if (inv.used_at) return 'used';
  return new Date(inv.expires_at) < new Date() ? 'expired' : 'pending';
}

export default async function mount({ me }) {
  const rows = $('#invite-rows');
  const urlInput = $('#invite-url');
  const result = $('#invite-result');

  let shownId = null; // the invite whose link is on screen

  function row(inv) {
    const status = statusOf(inv);
    const when = status === 'used' ? inv.used_at : status === 'revoked' ? inv.revoked_at : null;
    const revoke = status === 'pending'
      ? h('button', { type: 'button', class: 'revoke danger', 'aria-label': `Revoke invite created ${formatDateTime(inv.created_at)}` }, 'Revoke')
      : null;
    const tr = h('tr', { class: 'invite', 'data-id': inv.id },
      h('td', { 'data-label': 'Created' }, formatDateTime(inv.created_at)),
      h('td', { 'data-label': 'Expires' }, formatDateTime(inv.expires_at)),
      h('td', { 'data-label': 'Status' },
        h('span', { class: `badge ${status}` }, STATUS[status] || status),
        when ? h('span', { class: 'muted' }, ` ${formatDateTime(when)}`) : null),
      h('td', {}, revoke));
    revoke?.addEventListener('click', () => revokeInvite(inv, revoke));
    return tr;
  }

  async function load() {
    try {
      const data = await api('/api/invites');
      const invites = data.invites || [];
      rows.replaceChildren(...invites.map(row));
      $('#no-invites').hidden = invites.length > 0;
    } catch (err) {
      say(err.message, 'error');
    }
  }

  async function revokeInvite(inv, button) {
    button.disabled = true;
    try {
      await api(`/api/invites/${encodeURIComponent(inv.id)}`, { method: 'DELETE' });
      if (inv.id === shownId) { result.hidden = true; urlInput.value = ''; } // that link is dead now
      say('Invite revoked. Its link no longer works.', 'success');
      await load();
      $('#list-heading').focus(); // the button is gone; keep focus near it
    } catch (err) {
      button.disabled = false;
      say(err.message, 'error');
    }
  }

  $('#create-invite').addEventListener('click', async (e) => {
    const button = e.currentTarget;
    button.disabled = true;
    try {
      const inv = await api('/api/invites', { method: 'POST' });
      urlInput.value = inv.url;
      shownId = inv.id;
      $('#invite-expiry').textContent = `It works once, for 7 days (until ${formatDateTime(inv.expires_at)}). You can revoke it below until it is used.`;
      result.hidden = false;
      urlInput.focus();
      urlInput.select();
      say('Invite link created. Copy it now: it is shown only once.', 'success');
      await load();
    } catch (err) {
      say(err.message, 'error');
    } finally {
      button.disabled = false;
    }
  });

  $('#copy-invite').addEventListener('click', async () => {
    try {
      await navigator.clipboard.writeText(urlInput.value);
      say('Link copied. Paste it into a message to the new member.', 'success');
    } catch {
      // No clipboard access (plain http, or denied): select the text for a manual copy.
      urlInput.focus();
      urlInput.select();
      let copied = false;
      try { copied = document.execCommand('copy'); } catch { /* unsupported */ }
      say(copied ? 'Link copied. Paste it into a message to the new member.' : 'Press Ctrl+C (or ⌘C) to copy the selected link.', copied ? 'success' : 'info');
    }
  });

  if (me.user.role === 'admin') {
    $('#admin').hidden = false;
    await load();
  } else {
    $('#not-admin').hidden = false;
  }
}
