// faltung explorer: a 3D node-link view of the whole network (after A. Harley's MNIST visualisation).
// A tiny software renderer: every neuron is a square coloured by its activation, each layer a
// horizontal plane, input at the bottom; drag to rotate, wheel to zoom, click to inspect.
"use strict";
window.FX = window.FX || {};

FX.Net3D = class {
  constructor(canvas, model, onSelect) {
    this.canvas = canvas;
    this.ctx = canvas.getContext("2d");
    this.model = model;
    this.onSelect = onSelect;
    this.yaw = 0.55; this.pitch = 0.42; this.zoom = 1;
    this.maxChannels = 16;
    this.selection = null;
    this.planes = [];
    this.layout();
    this.listen();
  }

  // planes: the input and every layer that changes the values (Flatten and Dropout are skipped)
  layout() {
    const planes = [];
    const [H, W, C] = this.model.input_shape;
    planes.push(this.mapPlane(-1, "input", H, W, C, true));
    this.model.layers.forEach((info, i) => {
      if (info.kind === "flatten" || info.kind === "identity") return;
      const s = info.output_shape;
      if (s.length === 3 && s[0] * s[1] > 1) planes.push(this.mapPlane(i, info.name, s[0], s[1], s[2], false));
      else planes.push(this.vectorPlane(i, info.name, s.reduce((a, b) => a * b, 1), i === this.model.layers.length - 1));
    });
    let y = 0;
    const gap = 16;
    planes.forEach((p) => { p.y = y; y += gap; });
    const mid = (y - gap) / 2;
    planes.forEach((p) => { p.y -= mid; });
    this.planes = planes;
    this.byLayer = new Map(planes.map((p) => [p.layer, p]));
    this.radius = Math.max(...planes.map((p) => p.extent), mid, 10);
  }

  mapPlane(layer, name, H, W, C, isInput) {
    const shown = isInput ? 1 : Math.min(C, this.maxChannels);
    const gcols = Math.ceil(Math.sqrt(shown));
    const grows = Math.ceil(shown / gcols);
    const gap = Math.max(2, Math.round(W / 5));
    const width = gcols * W + (gcols - 1) * gap, depth = grows * H + (grows - 1) * gap;
    const n = shown * H * W;
    const x = new Float32Array(n), z = new Float32Array(n), index = new Int32Array(n);
    let k = 0;
    for (let c = 0; c < shown; c++) {
      const ox = (c % gcols) * (W + gap) - width / 2, oz = Math.floor(c / gcols) * (H + gap) - depth / 2;
      for (let r = 0; r < H; r++) for (let q = 0; q < W; q++) {
        x[k] = ox + q + 0.5; z[k] = oz + r + 0.5;
        index[k] = c * H * W + r * W + q;  // into the channel-major planes
        k++;
      }
    }
    return { layer, name, form: "maps", H, W, C, shown, x, z, index, n, size: 0.8,
             extent: Math.max(width, depth) / 2, label: C > shown ? `${name} (${shown} of ${C} maps)` : name };
  }

  vectorPlane(layer, name, count, isLast) {
    const shown = Math.min(count, 2048);
    const cols = isLast ? shown : Math.ceil(Math.sqrt(shown * 2));
    const rows = Math.ceil(shown / cols);
    const step = isLast ? 4 : 2;
    const x = new Float32Array(shown), z = new Float32Array(shown), index = new Int32Array(shown);
    for (let j = 0; j < shown; j++) {
      x[j] = ((j % cols) - (cols - 1) / 2) * step;
      z[j] = (Math.floor(j / cols) - (rows - 1) / 2) * step;
      index[j] = j;
    }
    return { layer, name, form: "vector", count, shown, x, z, index, n: shown, size: isLast ? 2.6 : 1.5,
             extent: Math.max(cols, rows) * step / 2, isLast, label: count > shown ? `${name} (${shown} of ${count})` : name };
  }

  setData(inputAct, acts) {
    this.inputAct = inputAct;
    this.acts = acts;
    this.render();
  }

  listen() {
    let drag = null;
    this.canvas.addEventListener("pointerdown", (e) => {
      drag = { x: e.clientX, y: e.clientY, yaw: this.yaw, pitch: this.pitch, moved: false };
      this.canvas.setPointerCapture && this.canvas.setPointerCapture(e.pointerId);
    });
    this.canvas.addEventListener("pointermove", (e) => {
      if (!drag) return;
      const dx = e.clientX - drag.x, dy = e.clientY - drag.y;
      if (Math.abs(dx) + Math.abs(dy) > 3) drag.moved = true;
      this.yaw = drag.yaw + dx * 0.008;
      this.pitch = Math.max(0.12, Math.min(1.45, drag.pitch + dy * 0.008));   // always from above
      this.render();
    });
    this.canvas.addEventListener("pointerup", (e) => {
      if (drag && !drag.moved) this.pick(e);
      drag = null;
    });
    this.canvas.addEventListener("wheel", (e) => {
      e.preventDefault();
      this.zoom = Math.max(0.3, Math.min(6, this.zoom * Math.exp(-e.deltaY * 0.001)));
      this.render();
    }, { passive: false });
    new ResizeObserver(() => this.render()).observe(this.canvas);
  }

  // world (x, y, z) -> screen [sx, sy, depth, pixels per unit]; the camera orbits the origin and
  // the whole network is fitted into the canvas (times the wheel zoom)
  camera() {
    const cy = Math.cos(this.yaw), sy = Math.sin(this.yaw), cp = Math.cos(this.pitch), sp = Math.sin(this.pitch);
    const distance = this.radius * 3;
    const view = (x, y, z) => {
      const x1 = cy * x - sy * z, z1 = sy * x + cy * z;         // yaw about the vertical axis
      const y2 = cp * y - sp * z1, z2 = sp * y + cp * z1;       // pitch about the horizontal axis
      const d = z2 + distance;
      return [x1 / d, -y2 / d, d];
    };
    let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
    for (const p of this.planes) {
      for (const [cx, cz] of [[-1, -1], [-1, 1], [1, -1], [1, 1]]) {
        const [u, v] = view(cx * p.extent, p.y, cz * p.extent);
        x0 = Math.min(x0, u); x1 = Math.max(x1, u); y0 = Math.min(y0, v); y1 = Math.max(y1, v);
      }
    }
    const left = 150, margin = 24;                               // room for the layer names
    const f = Math.min((this.width - left - margin) / (x1 - x0), (this.height - 2 * margin) / (y1 - y0)) * this.zoom;
    const ox = left + (this.width - left - margin) / 2 - f * (x0 + x1) / 2;
    const oy = this.height / 2 - f * (y0 + y1) / 2;
    return (x, y, z) => {
      const [u, v, d] = view(x, y, z);
      return [ox + f * u, oy + f * v, d, f / d];
    };
  }

  value(plane, k) {
    if (plane.layer === -1) return this.inputAct ? this.inputAct.planes[plane.index[k]] : 0;
    const act = this.acts && this.acts[plane.layer];
    return act ? act.planes[plane.index[k]] : 0;
  }

  render() {
    const rect = this.canvas.getBoundingClientRect();
    if (rect.width < 10 || rect.height < 10) return;
    this.width = Math.round(rect.width); this.height = Math.round(rect.height);
    if (this.canvas.width !== this.width || this.canvas.height !== this.height) {
      this.canvas.width = this.width; this.canvas.height = this.height;
    }
    const project = this.camera();
    const image = this.ctx.createImageData(this.width, this.height);
    const pixels = new Uint32Array(image.data.buffer);
    pixels.fill(0xff120d0b);                                  // background (ABGR)
    const rgba = new Uint8ClampedArray(4), word = new Uint32Array(rgba.buffer);
    const order = this.planes.map((p) => [p, project(0, p.y, 0)[2]]).sort((a, b) => b[1] - a[1]);
    for (const [plane] of order) {
      plane.sx = plane.sx || new Float32Array(plane.n);
      plane.sy = plane.sy || new Float32Array(plane.n);
      plane.ss = plane.ss || new Float32Array(plane.n);
      const act = plane.layer === -1 ? this.inputAct : this.acts && this.acts[plane.layer];
      const scale = plane.layer === -1 ? 255 : (act ? act.maxAbs : 1);
      for (let k = 0; k < plane.n; k++) {
        const [sx, sy, d, s] = project(plane.x[k], plane.y, plane.z[k]);
        const size = Math.max(1, plane.size * s);
        plane.sx[k] = sx; plane.sy[k] = sy; plane.ss[k] = d > 0 ? size : 0;
        if (d <= 0) continue;
        const v = this.value(plane, k);
        FX.colors.put(rgba, 0, v, scale, plane.layer === -1 ? "grey" : "signed");
        if (rgba[0] + rgba[1] + rgba[2] < 40) { rgba[0] = 38; rgba[1] = 42; rgba[2] = 52; }  // zero: dim grey, still visible
        const x0 = Math.max(0, Math.round(sx - size / 2)), x1 = Math.min(this.width, Math.round(sx + size / 2) || x0 + 1);
        const y0 = Math.max(0, Math.round(sy - size / 2)), y1 = Math.min(this.height, Math.round(sy + size / 2) || y0 + 1);
        for (let py = y0; py < Math.max(y1, y0 + 1) && py < this.height; py++) {
          pixels.fill(word[0], py * this.width + x0, py * this.width + Math.max(x1, x0 + 1));
        }
      }
    }
    this.ctx.putImageData(image, 0, 0);
    this.drawLabels(project);
    this.drawSelection();
  }

  drawLabels(project) {
    const ctx = this.ctx;
    ctx.font = "12px system-ui, sans-serif";
    ctx.fillStyle = "#aab3c2";
    for (const p of this.planes) {
      // the name left of the plane's leftmost corner, at the height of its centre
      const corners = [[-1, -1], [-1, 1], [1, -1], [1, 1]].map(([a, b]) => project(a * p.extent, p.y, b * p.extent));
      const sx = Math.min(...corners.map((c) => c[0]));
      const sy = project(0, p.y, 0)[1];
      ctx.textAlign = "right";
      ctx.fillText(p.label, sx - 8, sy + 4);
      if (p.isLast && this.acts) {
        ctx.textAlign = "center";
        const act = this.acts[p.layer];
        let top = 0;
        for (let k = 1; k < p.n; k++) if (act.planes[k] > act.planes[top]) top = k;
        for (let k = 0; k < p.n; k++) {
          ctx.fillStyle = k === top ? "#ffb000" : "#aab3c2";
          ctx.font = k === top ? "bold 15px system-ui, sans-serif" : "12px system-ui, sans-serif";
          ctx.fillText(this.model.class_names[k] ?? String(k), p.sx[k], p.sy[k] - p.ss[k] - 4);
        }
        ctx.font = "12px system-ui, sans-serif";
        ctx.fillStyle = "#aab3c2";
      }
    }
  }

  // the plane a layer's input comes from, skipping Flatten/Dropout (they keep the flat order)
  sourcePlane(layer) {
    let index = layer;
    for (;;) {
      const info = this.model.layers[index];
      if (!info || info.input_layer === null) return null;
      index = info.input_layer;
      if (this.byLayer.has(index)) return this.byLayer.get(index);
    }
  }

  nodeOf(plane, flat) {   // flat index (H, W, C order or vector order) -> node k in the plane, or -1
    if (!plane) return -1;
    if (plane.form === "vector") return flat < plane.n ? flat : -1;
    const c = flat % plane.C, q = Math.floor(flat / plane.C) % plane.W, r = Math.floor(flat / plane.C / plane.W);
    return c < plane.shown ? c * plane.H * plane.W + r * plane.W + q : -1;
  }

  select(layer, position, ex) {
    this.selection = { layer, position, ex };
    this.render();
  }

  drawSelection() {
    if (!this.selection) return;
    const { layer, position, ex } = this.selection;
    const plane = this.byLayer.get(layer);
    if (!plane || !plane.sx) return;
    const flatOf = (p, shape) => p.length === 3 ? (p[0] * shape[1] + p[1]) * shape[2] + p[2] : p[0];
    const info = this.model.layers[layer];
    const k = this.nodeOf(plane, flatOf(position, info.output_shape));
    if (k < 0) return;
    const src = this.sourcePlane(layer);
    const targets = [];
    if (src && ex) {
      const shape = src.layer === -1 ? this.model.input_shape : this.model.layers[src.layer].output_shape;
      const add = (r, q, c) => {
        if (r < 0 || q < 0 || r >= shape[0] || q >= shape[1]) return;
        const t = this.nodeOf(src, (r * shape[1] + q) * shape[2] + c);
        if (t >= 0) targets.push(t);
      };
      if (ex.kind === "conv") {
        const w = ex.window;
        for (let r = w.y0; r < w.y1; r += w.step[0]) for (let q = w.x0; q < w.x1; q += w.step[1])
          for (let c = 0; c < shape[2]; c++) add(r, q, c);
      } else if (ex.kind === "max_pool" || ex.kind === "avg_pool") {
        const w = ex.window;
        for (let r = w.y0; r < w.y1; r++) for (let q = w.x0; q < w.x1; q++) add(r, q, ex.channel);
      } else if (ex.kind === "dense") {
        ex.top.forEach((t) => { const n = this.nodeOf(src, t.index); if (n >= 0) targets.push(n); });
      }
    }
    const ctx = this.ctx;
    ctx.strokeStyle = "rgba(79,163,255,0.55)";
    ctx.lineWidth = 1;
    ctx.beginPath();
    for (const t of targets) { ctx.moveTo(plane.sx[k], plane.sy[k]); ctx.lineTo(src.sx[t], src.sy[t]); }
    ctx.stroke();
    ctx.strokeStyle = "#ffb000";
    ctx.lineWidth = 2;
    const s = Math.max(6, plane.ss[k] + 4);
    ctx.strokeRect(plane.sx[k] - s / 2, plane.sy[k] - s / 2, s, s);
  }

  pick(e) {
    const r = this.canvas.getBoundingClientRect();
    const mx = e.clientX - r.left, my = e.clientY - r.top;
    let best = null, bestDistance = 8;
    for (const p of this.planes) {
      if (p.layer === -1 || !p.sx) continue;
      for (let k = 0; k < p.n; k++) {
        const d = Math.hypot(p.sx[k] - mx, p.sy[k] - my) - p.ss[k] / 2;
        if (d < bestDistance) { bestDistance = d; best = [p, k]; }
      }
    }
    if (!best) return;
    const [p, k] = best;
    const info = this.model.layers[p.layer];
    let position;
    if (p.form === "maps") {
      const flat = p.index[k], c = Math.floor(flat / (p.H * p.W)), rest = flat % (p.H * p.W);
      position = [Math.floor(rest / p.W), rest % p.W, c];
    } else {
      position = info.output_shape.length === 3 ? [0, 0, k] : [k];
    }
    this.onSelect(p.layer, position);
  }
};
