// nav.js: loads the signed-in member (/api/me) and renders the header nav.
// The shell awaits initNav() before it mounts a page, so a signed-out
// visitor is sent to /login before anything else is asked for.
import { api, signInURL } from './api.js';
import { forget } from './player.js';
import { h, say } from './ui.js';

export async function initNav(current) {
  let me;
  try {
    me = await api('/api/me', { redirectOn401: false });
  } catch (err) {
    if (err.status === 401) {
      location.assign(signInURL());
      return new Promise(() => {}); // never resolves: the page is going away
    }
    say(err.message, 'error');
    throw err;
  }

  const links = [
    ['archive', '/', 'Archive'],
    ['upload', '/upload', 'Upload'],
    ['band', '/band', 'Band'],
  ];
  if (me.user.role === 'admin') links.push(['invites', '/admin/invites', 'Invites']);

  const logout = h('button', { type: 'button', id: 'logout', class: 'quiet' }, 'Sign out');
  logout.addEventListener('click', async () => {
    logout.disabled = true;
    try {
      const res = await fetch('/auth/logout', { method: 'POST', credentials: 'same-origin' });
      if (!res.ok && res.status !== 401) throw new Error();
      forget(); // this tab's player goes with the session
      location.assign('/login');
    } catch {
      logout.disabled = false;
      say('Could not sign out. Check your connection and try again.', 'error');
    }
  });

  const nav = document.getElementById('nav');
  nav.replaceChildren(
    h('ul', {}, links.map(([key, href, text]) =>
      h('li', {}, h('a', { href, 'data-key': key, 'aria-current': key === current ? 'page' : null }, text)))));
  // Name and sign-out sit beside the nav (not in it) so that on phones they
  // can share the brand's row while the links get a row of their own.
  nav.after(h('div', { class: 'who' },
    h('a', { class: 'name', href: '/account', 'data-key': 'account', title: `${me.user.email}: my account`, 'aria-current': current === 'account' ? 'page' : null },
      me.user.display_name || me.user.email),
    logout));
  return me;
}

// markCurrent moves aria-current="page" to the link of the page shown.
export function markCurrent(key) {
  for (const a of document.querySelectorAll('.site-header a[data-key]')) {
    if (a.dataset.key === key) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
}

// showName puts a changed display name in the header.
export function showName(name) {
  const a = document.querySelector('.site-header a.name');
  if (a && name) a.textContent = name;
}
