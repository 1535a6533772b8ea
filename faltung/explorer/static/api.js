// faltung explorer: talking to the server (fetch with timeouts) and decoding activations.
"use strict";
window.FX = window.FX || {};

FX.api = {
  async call(method, url, body, timeoutMs = 15000) {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), timeoutMs);
    const options = { method, signal: controller.signal, headers: {} };
    if (body instanceof FormData) {
      options.body = body;
    } else if (body !== undefined) {
      options.body = JSON.stringify(body);
      options.headers["Content-Type"] = "application/json";
    }
    try {
      const response = await fetch(url, options);
      const data = await response.json().catch(() => ({}));
      if (!response.ok) {
        const detail = typeof data.detail === "string" ? data.detail : JSON.stringify(data.detail || data);
        throw new Error(`${response.status}: ${detail}`);
      }
      return data;
    } finally {
      clearTimeout(timer);
    }
  },
  model() { return this.call("GET", "/api/model"); },
  predict(body) { return this.call("POST", "/api/predict", body); },
  upload(file) {
    const form = new FormData();
    form.append("file", file);
    return this.call("POST", "/api/upload", form);
  },
  neuron(layer, position, traceId) {
    return this.call("POST", "/api/neuron", { layer, position, trace_id: traceId });
  },
  filters(layer) { return this.call("GET", `/api/filters/${encodeURIComponent(layer)}`); },
  samples(n, offset) { return this.call("GET", `/api/samples?n=${n}&offset=${offset}`); },
};

FX.base64Bytes = function (text) {
  const raw = atob(text);
  const bytes = new Uint8Array(raw.length);
  for (let i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
  return bytes;
};

// One tensor from the server -> {shape, H, W, C, planes: Float32Array (C, H*W), maxAbs}.
// Feature maps (H, W, C) arrive channel-major; vectors (n,) are one plane of n values.
FX.decodeActivation = function (a) {
  const shape = a.shape;
  let H = 1, W = shape[0], C = 1;
  if (shape.length === 3) { [H, W, C] = shape; }
  const size = H * W;
  const bytes = FX.base64Bytes(a.data);
  const planes = new Float32Array(bytes.length);
  if (a.values) {
    planes.set(a.values);
  } else {
    for (let c = 0; c < C; c++) {
      const lo = a.lo[c], span = a.hi[c] - a.lo[c];
      for (let i = c * size, end = i + size; i < end; i++) planes[i] = lo + (bytes[i] / 255) * span;
    }
  }
  return { shape, H, W, C, planes, min: a.min, max: a.max,
           maxAbs: Math.max(Math.abs(a.min), Math.abs(a.max)) || 1, lo: a.lo, hi: a.hi };
};

FX.fmt = function (v, digits = 4) {
  if (v === null || v === undefined) return "pad";
  if (v === 0) return "0";
  const a = Math.abs(v);
  if (a >= 1e4 || a < 1e-3) return v.toExponential(digits > 3 ? 2 : 1);
  return Number(v.toFixed(digits)).toString();
};
