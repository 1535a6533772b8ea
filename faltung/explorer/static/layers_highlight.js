// faltung explorer: what lights up when a neuron is selected (added to FX.LayersView):
// the neuron itself, its window in the layer below, and its receptive field in the input.
"use strict";
window.FX = window.FX || {};

Object.assign(FX.LayersView.prototype, {
  clearHighlight() {
    this.container.querySelectorAll(".box").forEach((b) => b.remove());
    this.container.querySelectorAll(".bar.selected").forEach((b) => b.classList.remove("selected"));
  },

  column(index) { return index === -1 ? this.inputColumn : this.columns[index]; },

  // a box over cells [y0, y1) × [x0, x1) of feature map `channel` (or of the input image)
  box(col, channel, y0, y1, x0, x1, cls) {
    const wrap = col.form === "input" ? col.cells[0] : col.cells[channel];
    if (!wrap) return;
    const [H, W] = col.shape;
    y0 = Math.max(0, y0); x0 = Math.max(0, x0); y1 = Math.min(H, y1); x1 = Math.min(W, x1);
    if (y1 <= y0 || x1 <= x0) return;
    const b = this.el("div", "box " + (cls || ""));
    b.style.left = (100 * x0 / W) + "%"; b.style.width = (100 * (x1 - x0) / W) + "%";
    b.style.top = (100 * y0 / H) + "%"; b.style.height = (100 * (y1 - y0) / H) + "%";
    wrap.appendChild(b);
  },

  // a box over element j of a layer drawn as a vector, or flat index j of feature maps
  cellBox(col, j, cls) {
    if (col.form === "vector") {
      const { cols, rows } = col.vector;
      const b = this.el("div", "box " + (cls || ""));
      b.style.left = (100 * (j % cols) / cols) + "%"; b.style.width = (100 / cols) + "%";
      b.style.top = (100 * Math.floor(j / cols) / rows) + "%"; b.style.height = (100 / rows) + "%";
      col.cells[0].appendChild(b);
    } else if (col.form === "maps" || col.form === "input") {
      const [H, W, C] = col.shape;
      const c = j % C, x = Math.floor(j / C) % W, y = Math.floor(j / C / W);
      this.box(col, c, y, y + 1, x, x + 1, cls);
    } else if (col.form === "bars") {
      col.bars[j] && col.bars[j].bar.classList.add("selected");
    }
  },

  highlight(index, position, ex) {
    this.clearHighlight();
    const col = this.column(index);
    const info = this.model.layers[index];
    if (col.form === "maps") this.box(col, position[2], position[0], position[0] + 1, position[1], position[1] + 1, "self");
    else this.cellBox(col, position[position.length - 1], "self");
    if (ex && ex.input_field && info.input_layer !== -1) {
      const f = ex.input_field;
      this.box(this.inputColumn, 0, f.y0, f.y1, f.x0, f.x1, "field");
    }
    if (!ex || info.input_layer === null) return;
    const below = this.column(info.input_layer);
    const w = ex.window;
    if (ex.kind === "conv") {
      const channels = below.form === "input" ? [0] : [...Array(below.shape[2]).keys()];
      channels.forEach((c) => this.box(below, c, w.y0, w.y1, w.x0, w.x1));
      this.scrollInto(below, 0);
    } else if (ex.kind === "max_pool" || ex.kind === "avg_pool") {
      this.box(below, ex.channel, w.y0, w.y1, w.x0, w.x1);
      if (ex.winner_input) this.box(below, ex.channel, ex.winner_input[0], ex.winner_input[0] + 1,
                                    ex.winner_input[1], ex.winner_input[1] + 1, "self");
      this.scrollInto(below, ex.channel);
    } else if (ex.kind === "dense") {
      ex.top.forEach((t) => this.cellBox(below, t.index));
    } else if (ex.kind === "flatten") {
      const [y, x, c] = ex.source;
      if (below.form === "maps") { this.box(below, c, y, y + 1, x, x + 1); this.scrollInto(below, c); }
      else this.cellBox(below, ex.source[ex.source.length - 1]);
    } else if (ex.kind === "global_max_pool" || ex.kind === "global_avg_pool") {
      this.box(below, ex.channel, 0, 1e9, 0, 1e9);
    } else if (below.form !== "bars") {
      const p = ex.position;
      if (below.form === "maps" && p.length === 3) this.box(below, p[2], p[0], p[0] + 1, p[1], p[1] + 1);
      else this.cellBox(below, p[p.length - 1]);
    }
  },

  scrollInto(col, channel) {
    const wrap = col.cells[channel];
    if (wrap && wrap.scrollIntoView) wrap.scrollIntoView({ block: "nearest", inline: "nearest" });
  },
});
