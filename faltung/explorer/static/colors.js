// faltung explorer: colour maps. Negative values blue, positive orange -> pale yellow, zero black.
"use strict";
window.FX = window.FX || {};

FX.colors = (() => {
  const N = 256;
  const pos = new Uint8Array(N * 3), neg = new Uint8Array(N * 3), grey = new Uint8Array(N * 3);
  const stops = [[0, 0, 0, 0], [0.55, 255, 140, 0], [1, 255, 243, 196]];
  for (let i = 0; i < N; i++) {
    const t = i / (N - 1);
    let k = 0;
    while (k < stops.length - 2 && t > stops[k + 1][0]) k++;
    const [t0, r0, g0, b0] = stops[k], [t1, r1, g1, b1] = stops[k + 1];
    const u = (t - t0) / (t1 - t0);
    pos.set([r0 + u * (r1 - r0), g0 + u * (g1 - g0), b0 + u * (b1 - b0)], i * 3);
    neg.set([t * 59, t * 139, t * 255], i * 3);
    grey.set([i, i, i], i * 3);
  }
  // write the colour of v in [-scale, scale] into rgba[o..o+3]
  function put(rgba, o, v, scale, mode) {
    let t = v / scale;
    if (mode === "grey") {
      const i = Math.max(0, Math.min(255, Math.round(t * 255))) * 3;
      rgba[o] = grey[i]; rgba[o + 1] = grey[i + 1]; rgba[o + 2] = grey[i + 2]; rgba[o + 3] = 255;
      return;
    }
    const table = t < 0 ? neg : pos;
    const i = Math.min(255, Math.round(Math.abs(t) * 255)) * 3;
    rgba[o] = table[i]; rgba[o + 1] = table[i + 1]; rgba[o + 2] = table[i + 2]; rgba[o + 3] = 255;
  }
  function css(v, scale) {
    const rgba = new Uint8ClampedArray(4);
    put(rgba, 0, v, scale || 1, "signed");
    return `rgb(${rgba[0]},${rgba[1]},${rgba[2]})`;
  }
  return { put, css };
})();
