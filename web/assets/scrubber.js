// scrubber.js: a waveform canvas as the seek bar of a time line. Click or
// drag to seek, arrow keys when it has the focus, and the time under the
// pointer shown while hovering. It is the only seek bar: no native one
// sits beside it.
import { attach } from './waveform.js';
import { h, formatClock } from './ui.js';

/**
 * scrubber(canvas, peaks, { time, duration, seek }): time() and duration()
 * read the time line in seconds, seek(t, how) moves it, how being
 * 'pointer' or 'key'. The canvas carries
 * role="slider" and sits in a positioned .scrub wrapper, where the hover
 * time is shown. Returns { update(), setPeaks(peaks) }: update() redraws
 * the progress and the slider's values.
 */
export function scrubber(canvas, peaks, { time, duration, seek }) {
  const wave = attach(canvas, peaks);
  const tip = h('span', { class: 'scrub-tip', 'aria-hidden': 'true', hidden: true });
  canvas.parentElement.append(tip);
  let dragging = false;
  let shown = ''; // the slider's values as last set: they change once a second, not every frame

  const fraction = (e) => {
    const r = canvas.getBoundingClientRect();
    return r.width ? Math.max(0, Math.min(1, (e.clientX - r.left) / r.width)) : 0;
  };

  function showTip(e) {
    const d = duration();
    if (!d) { tip.hidden = true; return; }
    const f = fraction(e);
    tip.textContent = formatClock(f * d);
    tip.style.left = `${f * 100}%`;
    tip.hidden = false;
  }

  function update() {
    if (dragging) return; // the pointer shows where the seek will land
    const d = duration();
    const t = Math.min(time(), d || Infinity);
    wave.setProgress(d ? t / d : 0);
    const text = `${formatClock(t)} of ${formatClock(d)}`;
    if (text === shown) return;
    shown = text;
    canvas.setAttribute('aria-valuemax', String(Math.round(d)));
    canvas.setAttribute('aria-valuenow', String(Math.round(t)));
    canvas.setAttribute('aria-valuetext', text);
  }

  function seekTo(t, how) {
    const d = duration();
    if (!d) return;
    seek(Math.max(0, Math.min(d, t)), how);
    update();
  }

  canvas.addEventListener('pointerdown', (e) => {
    if (e.button !== 0) return;
    dragging = true;
    canvas.setPointerCapture(e.pointerId);
    wave.setProgress(fraction(e));
    showTip(e);
  });
  canvas.addEventListener('pointermove', (e) => {
    showTip(e);
    if (dragging) wave.setProgress(fraction(e));
  });
  canvas.addEventListener('pointerup', (e) => {
    if (!dragging) return;
    dragging = false;
    if (e.pointerType !== 'mouse') tip.hidden = true;
    seekTo(fraction(e) * duration(), 'pointer');
  });
  canvas.addEventListener('pointercancel', () => { dragging = false; tip.hidden = true; update(); });
  canvas.addEventListener('pointerleave', () => { if (!dragging) tip.hidden = true; });

  canvas.addEventListener('keydown', (e) => {
    const t = time();
    const moves = {
      ArrowLeft: t - 5, ArrowDown: t - 5, ArrowRight: t + 5, ArrowUp: t + 5,
      PageDown: t - 60, PageUp: t + 60, Home: 0, End: duration(),
    };
    if (!(e.key in moves)) return;
    e.preventDefault();
    seekTo(moves[e.key], 'key');
  });

  update();
  return { update, setPeaks: (p) => wave.setPeaks(p) };
}
