// faltung explorer: the filters (kernels) of a conv layer, blue negative / orange positive.
"use strict";
window.FX = window.FX || {};

FX.FiltersView = class {
  constructor(select, container, info, model, activationOf) {
    this.activationOf = activationOf;   // layer name -> its decoded output for the current input
    this.container = container;
    this.info = info;
    this.select = select;
    const convs = model.layers.filter((l) => l.type === "Conv2D");
    select.innerHTML = convs.map((l) => `<option value="${l.name}">${l.name} (${l.kernel_size.join("×")}, ${l.filters} filters)</option>`).join("");
    select.addEventListener("change", () => this.show(select.value));
    this.cache = {};   // layer name -> /api/filters answer
    if (!convs.length) container.textContent = "This model has no Conv2D layers.";
  }

  // (re)draw the selected layer's filters next to their current feature maps
  async refresh() {
    if (this.select.value) await this.show(this.select.value);
  }

  // feature map k of the layer's current output, as in the Layers view
  outputMap(act, k, size) {
    const canvas = document.createElement("canvas");
    canvas.width = act.W; canvas.height = act.H;
    canvas.style.width = size + "px"; canvas.style.height = Math.round(size * act.H / act.W) + "px";
    canvas.title = `feature map ${k} for the current input`;
    const ctx = canvas.getContext("2d");
    const image = ctx.createImageData(act.W, act.H);
    const n = act.H * act.W;
    for (let i = 0; i < n; i++) FX.colors.put(image.data, i * 4, act.planes[k * n + i], act.maxAbs, "signed");
    ctx.putImageData(image, 0, 0);
    return canvas;
  }

  async show(name) {
    const f = this.cache[name] || (this.cache[name] = await FX.api.filters(name));
    const [kh, kw, cin, cout] = f.shape;
    const w = new Float32Array(FX.base64Bytes(f.kernel).buffer);
    const scale = Math.max(Math.abs(f.min), Math.abs(f.max)) || 1;
    const maxSlices = cout >= 64 ? 8 : 16;
    // one big picture per filter when it has one input channel (or RGB), small slices otherwise
    const single = cin === 1 || cin === 3;
    const cell = single && cout <= 16 ? Math.max(6, Math.min(20, Math.floor(100 / kh)))
                                      : Math.max(4, Math.min(single ? 14 : 8, Math.floor((single ? 64 : 40) / kh)));
    const act = this.activationOf(name);
    this.info.textContent = `${cout} filters of ${kh}×${kw}×${cin}; weights in [${FX.fmt(f.min)}, ${FX.fmt(f.max)}]` +
      (cin > maxSlices ? `; first ${maxSlices} of ${cin} input channels shown` : "");
    this.container.innerHTML = "";
    const at = (u, v, c, k) => w[((u * kw + v) * cin + c) * cout + k];
    for (let k = 0; k < cout; k++) {
      const card = document.createElement("div");
      card.className = "filter";
      card.innerHTML = `<b>filter ${k}</b><div class="filter-row"><div class="slices"></div></div>` +
        `<small>bias ${FX.fmt(f.bias[k], 3)}</small>`;
      const slices = card.querySelector(".slices");
      slices.style.gridTemplateColumns = `repeat(${Math.min(cin === 3 ? 1 : cin, 4)}, auto)`;
      const channels = cin === 3 ? ["rgb"] : [...Array(Math.min(cin, maxSlices)).keys()];
      for (const c of channels) {
        const canvas = document.createElement("canvas");
        canvas.width = kw; canvas.height = kh;
        canvas.style.width = kw * cell + "px"; canvas.style.height = kh * cell + "px";
        const ctx = canvas.getContext("2d");
        const image = ctx.createImageData(kw, kh);
        for (let u = 0; u < kh; u++) for (let v = 0; v < kw; v++) {
          const o = (u * kw + v) * 4;
          if (c === "rgb") {   // the three input channels as one colour image, 0 = mid grey
            for (let ch = 0; ch < 3; ch++) image.data[o + ch] = 128 + 127 * at(u, v, ch, k) / scale;
            image.data[o + 3] = 255;
          } else {
            FX.colors.put(image.data, o, at(u, v, c, k), scale, "signed");
          }
        }
        ctx.putImageData(image, 0, 0);
        canvas.title = c === "rgb" ? `filter ${k} (RGB)` : `filter ${k}, input channel ${c}`;
        slices.appendChild(canvas);
      }
      if (act && act.shape.length === 3 && act.H * act.W > 1) card.querySelector(".filter-row").append(
        Object.assign(document.createElement("span"), { className: "arrow", textContent: "→" }),
        this.outputMap(act, k, Math.max(64, kh * cell)));
      this.container.appendChild(card);
    }
  }
};
