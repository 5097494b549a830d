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
let seq = 0; // the newest navigation; an older one that finishes late gives way

// The paths that are never member pages: a link to them loads normally.
const OUTSIDE = /^\/(api|auth|assets|login|join)(\/|$)/;

// start renders the header, runs ready (the player's restore) once the
// member is known, and mounts the page the document holds.
export async function start(ready) {
  const main = document.getElementById('main');
  me = await initNav(main.dataset.page);
  await ready(me);
  history.scrollRestoration = 'manual';
  document.addEventListener('click', onClick);
  window.addEventListener('popstate', () => go(new URL(location.href), { push: false }));
  await mount(main);
  return me;
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
  if (url.pathname === location.pathname && url.search === location.search && url.hash) return;
  e.preventDefault();
  go(url, { push: true });
}

async function go(url, { push }) {
  const mine = ++seq;
  if (push) history.replaceState({ ...history.state, scroll: scrollY }, '');
  let doc;
  try {
    const res = await fetch(url.pathname + url.search, { credentials: 'same-origin', headers: { Accept: 'text/html' } });
    if (!res.ok || !(res.headers.get('Content-Type') || '').startsWith('text/html')) throw new Error(`${res.status}`);
    doc = new DOMParser().parseFromString(await res.text(), 'text/html');
  } catch {
    location.assign(url.href); // the browser shows whatever it is
    return;
  }
  if (mine !== seq) return;
  const next = doc.getElementById('main');
  if (!next || !next.dataset.page) {
    location.assign(url.href); // not a member page: the sign-in page, say
    return;
  }
  if (push) history.pushState({}, '', url.href);
  document.title = doc.title;
  const fresh = document.adoptNode(next);
  document.getElementById('main').replaceWith(fresh);
  window.scrollTo(0, push ? 0 : (history.state?.scroll || 0));
  // The focus goes where a full load would put a screen reader: the content.
  if (push) fresh.focus({ preventScroll: true });
  await mount(fresh);
}

async function mount(main) {
  mounted?.abort();
  const ctl = new AbortController();
  mounted = ctl;
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
