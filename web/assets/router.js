// router.js: moves between the member pages without unloading the
// document, so the player at the bottom keeps playing. Every page stays a
// real address: a reload, a deep link or a new tab loads it whole, and the
// back button comes back through popstate.
//
// A member page's HTML names its module in <main data-page="archive">; the
// module's default export mounts it:
//
//   export default async function mount({ main, me, signal })
//
// signal aborts when the member leaves the page: listeners on window and
// document are added with { signal }, and timers stop on abort.
import { initNav, markCurrent } from './nav.js';
import { say } from './ui.js';

let me = null;
let mounted = null; // AbortController of the page shown
let mountedAt = ''; // its path and query: a change of the #hash alone is no new page
let seq = 0; // the newest navigation; an older one that finishes late gives way

// The paths that are never member pages: a link to them loads normally.
const OUTSIDE = /^\/(api|auth|assets|login|join)(\/|$)/;

const here = (url) => url.pathname + url.search;

// start renders the header, runs ready (the player's restore) once the
// member is known, and mounts the page the document holds.
export async function start(ready) {
  const main = document.getElementById('main');
  me = await initNav(main.dataset.page);
  await ready(me);
  // Scroll positions are kept in the history entries, and put back once
  // the page has loaded what it shows (the browser would do it too early).
  history.scrollRestoration = 'manual';
  document.addEventListener('click', onClick);
  window.addEventListener('popstate', () => {
    const url = new URL(location.href);
    if (here(url) !== mountedAt) go(url, { push: false });
  });
  let saving = 0;
  window.addEventListener('scroll', () => {
    clearTimeout(saving);
    saving = setTimeout(() => history.replaceState({ ...history.state, scroll: scrollY }, ''), 150);
  }, { passive: true });
  await mount(main);
  restoreScroll();
  return me;
}

// replaceAddress changes the address of the page shown (its filters, say)
// without a new history entry or a new mount.
export function replaceAddress(url) {
  history.replaceState({ scroll: scrollY }, '', url);
  mountedAt = here(location);
}

// navigate shows url as if its link had been followed.
export function navigate(url) {
  return go(new URL(url, location.href), { push: true });
}

function onClick(e) {
  if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  const a = e.target instanceof Element ? e.target.closest('a[href]') : null;
  if (!a || (a.target && a.target !== '_self') || a.hasAttribute('download')) return;
  const url = new URL(a.href, location.href);
  if (url.origin !== location.origin || OUTSIDE.test(url.pathname)) return;
  // A link within the page (#main, #t=2:10) is the browser's to follow.
  if (here(url) === here(location) && url.hash) return;
  e.preventDefault();
  go(url, { push: true });
}

async function go(url, { push }) {
  const mine = ++seq;
  let doc;
  try {
    const res = await fetch(here(url), { credentials: 'same-origin', headers: { Accept: 'text/html' } });
    if (!res.ok || !(res.headers.get('Content-Type') || '').startsWith('text/html')) throw new Error(`${res.status}`);
    doc = new DOMParser().parseFromString(await res.text(), 'text/html');
  } catch {
    if (mine === seq) location.assign(url.href); // the browser shows whatever it is
    return;
  }
  if (mine !== seq) return;
  const next = doc.getElementById('main');
  if (!next || !next.dataset.page) {
    location.assign(url.href); // not a member page: the sign-in page, say
    return;
  }
  if (push) {
    // The link of the page shown adds no second entry to go back through.
    if (url.href === location.href) history.replaceState({}, '', url.href);
    else history.pushState({}, '', url.href);
  }
  document.title = doc.title;
  const fresh = document.adoptNode(next);
  document.getElementById('main').replaceWith(fresh);
  if (push) window.scrollTo(0, 0);
  // The focus goes to the new page's heading, which a screen reader reads
  // as a full load would be: the clicked link is gone.
  const heading = fresh.querySelector('h1') || fresh;
  if (heading !== fresh) heading.tabIndex = -1;
  heading.focus({ preventScroll: true });
  await mount(fresh);
  if (!push && mine === seq) restoreScroll();
}

function restoreScroll() {
  const y = history.state?.scroll;
  if (y) window.scrollTo(0, y);
}

async function mount(main) {
  mounted?.abort();
  const ctl = new AbortController();
  mounted = ctl;
  mountedAt = here(location);
  markCurrent(main.dataset.page);
  try {
    const page = await import(`./${main.dataset.page}.js`);
    if (ctl.signal.aborted) return;
    await page.default({ main, me, signal: ctl.signal });
  } catch (err) {
    if (ctl.signal.aborted) return;
    console.error(err);
    say('This page could not be shown. Reload it to try again.', 'error');
  }
}
