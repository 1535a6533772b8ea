// faltung explorer: every layer as a column of feature maps, input on the left, class bars on the right.
"use strict";
window.FX = window.FX || {};

FX.mapLayout = function (H, W, C) {
  const cols = C <= 6 ? 1 : C <= 16 ? 2 : C <= 48 ? 3 : 4;
  let size = [0, 72, 56, 44, C > 64 ? 28 : 36][cols];
  if (H <= 8) size = Math.min(size, Math.max(28, H * 9));
  return { cols, size, height: Math.round(size * H / W) };
};

FX.vectorLayout = function (n) {
  if (n <= 16) return { cols: 1, cell: 18 };
  if (n <= 128) return { cols: 4, cell: 14 };
  if (n <= 512) return { cols: 8, cell: 10 };
  return { cols: 32, cell: 3 };
};

// "Conv 5×5 tanh", "MaxPool 2×2", "Dense relu": short enough for a narrow column
FX.shortType = function (info) {
  const names = { Conv2D: "Conv", MaxPooling2D: "MaxPool", AveragePooling2D: "AvgPool",
                  GlobalAveragePooling2D: "GlobalAvg", GlobalMaxPooling2D: "GlobalMax",
                  BatchNormalization: "BatchNorm" };
  const size = info.kernel_size || info.pool_size;
  const usual = info.pool_size || [1, 1];   // pooling strides default to the pool size, conv to 1
  const stride = info.strides && info.strides.some((s, k) => s !== usual[k]) ? ` /${info.strides.join("×")}` : "";
  const act = info.activation && info.activation !== "linear" ? ` ${info.activation}` : "";
  return `${names[info.type] || info.type}${size ? " " + size.join("×") : ""}${stride}${act}`;
};

// how a layer's output is drawn: feature maps, a vector of cells, or (the last layer) class bars
FX.layerForm = function (info, isLast) {
  const s = info.output_shape;
  if (isLast) return "bars";
  if (s.length === 3 && s[0] * s[1] > 1) return "maps";
  return "vector";
};

FX.LayersView = class {
  constructor(container, model, onSelect) {
    this.container = container;
    this.model = model;
    this.onSelect = onSelect;
    this.onHover = () => {};
    this.perMap = false;
    this.columns = [];   // index -1 (input) first, then each layer
    this.acts = null;
    this.build();
  }

  build() {
    this.container.innerHTML = "";
    const [H, W, C] = this.model.input_shape;
    this.inputColumn = this.addColumn("input", `${H}×${W}×${C}`, "");
    const wrap = this.el("div", "map");
    const size = 120;
    wrap.style.width = size + "px";
    wrap.style.height = Math.round(size * H / W) + "px";
    this.inputImage = this.el("img");
    this.inputImage.style.cssText = "width:100%;height:100%;image-rendering:pixelated;background:#000";
    wrap.appendChild(this.inputImage);
    this.inputColumn.maps.appendChild(wrap);
    this.inputColumn.form = "input";
    this.inputColumn.cells = [wrap];
    this.inputColumn.shape = [H, W, C];
    this.model.layers.forEach((info, i) => {
      const last = i === this.model.layers.length - 1;
      const form = FX.layerForm(info, last);
      const col = this.addColumn(info.name, FX.shortType(info), info.output_shape.join("×"), info);
      col.form = form;
      col.index = i;
      col.shape = info.output_shape;
      if (form === "maps") this.buildMaps(col);
      else if (form === "vector") this.buildVector(col);
      else this.buildBars(col);
      this.columns.push(col);
    });
  }

  el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  addColumn(name, type, shape, info) {
    const col = this.el("div", "column");
    const head = this.el("header");
    // a break opportunity after each underscore: "average_pooling2d_1" wraps at "_"
    head.append(this.el("b", "", name.replace(/_/g, "_\u200b")), this.el("span", "", type), this.el("span", "", shape));
    if (info) head.title = `${info.type}, ${info.params.toLocaleString()} parameters` +
      (info.kernel_size ? `, kernel ${info.kernel_size.join("×")}` : "") +
      (info.pool_size ? `, pool ${info.pool_size.join("×")}` : "") +
      (info.strides ? `, strides ${info.strides.join("×")}` : "") + (info.padding ? `, ${info.padding}` : "");
    const maps = this.el("div", "maps");
    col.append(head, maps);
    maps.addEventListener("mouseleave", () => this.onHover(""));
    this.container.appendChild(col);
    return { element: col, maps, name, cells: [] };
  }

  buildMaps(col) {
    const [H, W, C] = col.shape;
    const layout = FX.mapLayout(H, W, C);
    col.maps.style.gridTemplateColumns = `repeat(${layout.cols}, ${layout.size}px)`;
    for (let c = 0; c < C; c++) {
      const wrap = this.el("div", "map");
      wrap.style.width = layout.size + "px";
      wrap.style.height = layout.height + "px";
      const canvas = this.el("canvas");
      canvas.width = W; canvas.height = H;
      wrap.append(canvas);
      if (layout.size >= 36) wrap.append(this.el("span", "tag", String(c)));
      wrap.dataset.channel = c;
      wrap.addEventListener("mousemove", (e) => {
        const r = canvas.getBoundingClientRect();
        const x = Math.min(W - 1, Math.floor((e.clientX - r.left) / r.width * W));
        const y = Math.min(H - 1, Math.floor((e.clientY - r.top) / r.height * H));
        const act = this.acts && this.acts[col.index];
        if (act) this.onHover(`${col.name} [row ${y}, col ${x}, ch ${c}] ≈ ${FX.fmt(act.planes[c * H * W + y * W + x])}`);
      });
      wrap.addEventListener("click", (e) => {
        const r = canvas.getBoundingClientRect();
        const x = Math.min(W - 1, Math.floor((e.clientX - r.left) / r.width * W));
        const y = Math.min(H - 1, Math.floor((e.clientY - r.top) / r.height * H));
        this.onSelect(col.index, [y, x, c]);
      });
      col.maps.appendChild(wrap);
      col.cells.push(wrap);
    }
  }

  buildVector(col) {
    const n = col.shape.reduce((a, b) => a * b, 1);
    const layout = FX.vectorLayout(n);
    const rows = Math.ceil(n / layout.cols);
    const wrap = this.el("div", "map");
    wrap.style.width = layout.cols * layout.cell + "px";
    wrap.style.height = rows * layout.cell + "px";
    const canvas = this.el("canvas");
    canvas.width = layout.cols; canvas.height = rows;
    wrap.appendChild(canvas);
    const unitAt = (e) => {
      const r = canvas.getBoundingClientRect();
      const x = Math.min(layout.cols - 1, Math.floor((e.clientX - r.left) / r.width * layout.cols));
      const y = Math.floor((e.clientY - r.top) / r.height * rows);
      return Math.min(n - 1, y * layout.cols + x);
    };
    wrap.addEventListener("mousemove", (e) => {
      const act = this.acts && this.acts[col.index];
      const j = unitAt(e);
      if (act) this.onHover(`${col.name} [${j}] ≈ ${FX.fmt(act.planes[j])}`);
    });
    wrap.addEventListener("click", (e) => {
      const j = unitAt(e);
      this.onSelect(col.index, col.shape.length === 3 ? [0, 0, j] : [j]);
    });
    col.maps.appendChild(wrap);
    col.cells.push(wrap);
    col.vector = { n, cols: layout.cols, rows };
  }

  buildBars(col) {
    col.maps.className = "bars";
    const n = col.shape.reduce((a, b) => a * b, 1);
    const names = this.model.class_names;
    col.bars = [];
    for (let j = 0; j < Math.max(n, names.length); j++) {
      const bar = this.el("div", "bar");
      const track = this.el("div", "track");
      const fill = this.el("div", "fill");
      track.appendChild(fill);
      const pct = this.el("span", "pct", "");
      bar.append(this.el("span", "label", names[j] ?? String(j)), track, pct);
      bar.addEventListener("click", () => this.onSelect(col.index, col.shape.length === 3 ? [0, 0, j] : [j]));
      col.maps.appendChild(bar);
      col.bars.push({ bar, fill, pct });
    }
    col.cells = [col.maps];
  }

  update(result) {
    this.result = result;
    this.inputImage.src = result.input_png;
    this.acts = result.layers.map(FX.decodeActivation);
    this.redraw();
  }

  redraw() {
    if (!this.acts) return;
    this.columns.forEach((col) => {
      const act = this.acts[col.index];
      if (col.form === "maps") this.drawMaps(col, act);
      else if (col.form === "vector") this.drawVector(col, act);
      else this.drawBars(col);
    });
  }

  drawMaps(col, act) {
    const size = act.H * act.W;
    col.cells.forEach((wrap, c) => {
      const canvas = wrap.firstChild;
      const ctx = canvas.getContext("2d");
      const image = ctx.createImageData(act.W, act.H);
      const scale = this.perMap ? (Math.max(Math.abs(act.lo[c]), Math.abs(act.hi[c])) || 1) : act.maxAbs;
      const base = c * size;
      for (let i = 0; i < size; i++) FX.colors.put(image.data, i * 4, act.planes[base + i], scale, "signed");
      ctx.putImageData(image, 0, 0);
    });
  }

  drawVector(col, act) {
    const canvas = col.cells[0].firstChild;
    const ctx = canvas.getContext("2d");
    const image = ctx.createImageData(col.vector.cols, col.vector.rows);
    for (let j = 0; j < col.vector.n; j++) FX.colors.put(image.data, j * 4, act.planes[j], act.maxAbs, "signed");
    ctx.putImageData(image, 0, 0);
  }

  drawBars(col) {
    const p = this.result.probabilities;
    const top = this.result.top_class;
    col.bars.forEach((b, j) => {
      const v = p[j] ?? 0;
      b.fill.style.width = (100 * v).toFixed(1) + "%";
      b.pct.textContent = (100 * v).toFixed(1) + "%";
      b.bar.classList.toggle("top", j === top);
    });
  }
};
