// stars.js: star icons, the average display and the "my score" buttons.
import { h, svgIcon } from './ui.js';

const STAR = 'M12 2.8l2.8 5.9 6.4.8-4.7 4.5 1.2 6.4L12 17.3l-5.7 3.1 1.2-6.4-4.7-4.5 6.4-.8z';

export const starIcon = () => svgIcon(STAR, 'star-icon');

const fiveStars = (cls) => h('span', { class: `row ${cls}` }, [1, 2, 3, 4, 5].map(starIcon));

// Fills `el` with the average as stars (partly filled) and its number, e.g. "4.2".
// Unscored recordings say so in words.
export function renderAverage(el, average) {
  if (average === null || average === undefined) {
    el.replaceChildren(h('span', { class: 'none' }, 'No scores yet'));
    return;
  }
  const full = fiveStars('full');
  full.style.width = `${Math.max(0, Math.min(5, average)) * 20}%`;
  el.replaceChildren(
    h('span', { class: 'stars-avg', 'aria-hidden': 'true' }, fiveStars('empty'), full),
    h('span', { class: 'value' }, average.toFixed(1)),
  );
}

/**
 * Five buttons (button.star[data-score]) plus "Clear". onPick(n) is called
 * with 1..5, or null for clear; it returns a promise, and the control is busy
 * until it settles. Returns { el, set(score) }.
 */
export function scoreControl(labelId, onPick) {
  let current = null;
  const stars = [1, 2, 3, 4, 5].map((n) => h('button', {
    type: 'button', class: 'star', 'data-score': n,
    'aria-label': `Score ${n} of 5`, 'aria-pressed': 'false',
  }, starIcon()));
  const clear = h('button', { type: 'button', class: 'quiet clear-score' }, 'Clear');
  const el = h('div', { class: 'score-control', role: 'group', 'aria-labelledby': labelId },
    h('span', { class: 'score-stars' }, stars), clear);

  function set(score) {
    current = score ?? null;
    for (const b of stars) {
      const n = Number(b.dataset.score);
      b.classList.toggle('lit', current !== null && n <= current);
      b.setAttribute('aria-pressed', String(n === current));
    }
    clear.hidden = current === null;
  }

  async function pick(score, button) {
    if (el.getAttribute('aria-busy') === 'true') return;
    el.setAttribute('aria-busy', 'true');
    try {
      await onPick(score);
    } finally {
      el.removeAttribute('aria-busy');
      // Clearing hides the Clear button; keep keyboard focus somewhere sensible.
      if (button === clear && document.activeElement === document.body) stars[0].focus();
    }
  }

  stars.forEach((b) => b.addEventListener('click', () => pick(Number(b.dataset.score), b)));
  clear.addEventListener('click', () => pick(null, clear));
  set(null);
  return { el, set };
}
