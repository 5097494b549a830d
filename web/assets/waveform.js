// waveform.js: draws a recording's peaks on a canvas, sharp on any screen.
// peaks: base64 of unsigned bytes (0-255), one per column; null → a flat line.

export function decodePeaks(b64) {
  if (!b64 || typeof b64 !== 'string') return null;
  try {
    const bin = atob(b64);
    const out = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out.length ? out : null;
  } catch {
    return null; // not base64: treat as unknown
  }
}

// Colours come from the stylesheet (--wave, --wave-played) so light and dark match.
function colours(canvas) {
  const css = getComputedStyle(canvas);
  return {
    base: css.getPropertyValue('--wave').trim() || '#cdbfaf',
    played: css.getPropertyValue('--wave-played').trim() || '#a4461c',
  };
}

// progress: 0..1, the part already played, drawn in the accent colour.
export function drawWaveform(canvas, peaks, progress = 0) {
  const w = canvas.clientWidth;
  const hgt = canvas.clientHeight;
  if (!w || !hgt) return;
  const dpr = window.devicePixelRatio || 1;
  const pw = Math.round(w * dpr);
  const ph = Math.round(hgt * dpr);
  if (canvas.width !== pw) canvas.width = pw;
  if (canvas.height !== ph) canvas.height = ph;
  const ctx = canvas.getContext('2d');
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, w, hgt);
  const { base, played } = colours(canvas);
  const mid = hgt / 2;
  const split = Math.max(0, Math.min(1, progress)) * w;

  if (!peaks) {
    ctx.fillStyle = base;
    ctx.fillRect(0, mid - 1, w, 2);
    ctx.fillStyle = played;
    ctx.fillRect(0, mid - 1, split, 2);
    return;
  }

  // One bar per few CSS pixels.
  const bar = w < 240 ? 1.5 : 2;
  const step = bar + 1;
  columnPeaks(peaks, Math.max(1, Math.floor(w / step))).forEach((v, i) => {
    const amp = Math.max(0.75, (v / 255) * (mid - 1));
    const x = i * step;
    ctx.fillStyle = x < split ? played : base;
    ctx.fillRect(x, mid - amp, bar, amp * 2);
  });
}

// columnPeaks spreads peaks over cols columns, each taking the loudest
// peak it covers.
export function columnPeaks(peaks, cols) {
  const n = peaks.length;
  const out = new Uint8Array(cols);
  for (let i = 0; i < cols; i++) {
    const from = Math.floor((i * n) / cols);
    const to = Math.max(from + 1, Math.floor(((i + 1) * n) / cols));
    for (let j = from; j < to && j < n; j++) if (peaks[j] > out[i]) out[i] = peaks[j];
  }
  return out;
}

// Canvases drawn with attach() are redrawn when their size or the colour
// scheme changes. Entries leave when their canvas leaves the page.
const drawn = new Map();

const resize = new ResizeObserver((entries) => {
  for (const { target } of entries) {
    const s = drawn.get(target);
    if (!target.isConnected) { drawn.delete(target); resize.unobserve(target); continue; }
    if (s) drawWaveform(target, s.peaks, s.progress);
  }
});

matchMedia('(prefers-color-scheme: dark)').addEventListener('change', () => {
  for (const [c, s] of drawn) {
    if (c.isConnected) drawWaveform(c, s.peaks, s.progress);
    else { drawn.delete(c); resize.unobserve(c); }
  }
});

export function attach(canvas, peaks) {
  const state = { peaks, progress: 0 };
  drawn.set(canvas, state);
  resize.observe(canvas);
  return {
    setProgress(p) {
      if (Math.abs(p - state.progress) < 0.0005) return;
      state.progress = p;
      drawWaveform(canvas, state.peaks, p);
    },
    setPeaks(peaks) {
      state.peaks = peaks;
      drawWaveform(canvas, peaks, state.progress);
    },
  };
}
