// faltung explorer: the filters (kernels) of a conv layer, blue negative / orange positive.
"use strict";
window.FX = window.FX || {};

FX.FiltersView = class {
  constructor(select, container, info, model) {
    this.container = container;
    this.info = info;
    this.select = select;
    const convs = model.layers.filter((l) => l.type === "Conv2D");
    select.innerHTML = convs.map((l) => `<option value="${l.name}">${l.name} (${l.kernel_size.join("×")}, ${l.filters} filters)</option>`).join("");
    select.addEventListener("change", () => this.show(select.value));
    this.loaded = null;
    if (!convs.length) container.textContent = "This model has no Conv2D layers.";
  }

  async ensure() {
    if (this.select.value && this.loaded !== this.select.value) await this.show(this.select.value);
  }

  async show(name) {
    this.loaded = name;
    const f = await FX.api.filters(name);
    const [kh, kw, cin, cout] = f.shape;
    const w = new Float32Array(FX.base64Bytes(f.kernel).buffer);
    const scale = Math.max(Math.abs(f.min), Math.abs(f.max)) || 1;
    const maxSlices = cout >= 64 ? 8 : 16;
    const cell = Math.max(4, Math.min(14, Math.floor(64 / kh)));
    this.info.textContent = `${cout} filters of ${kh}×${kw}×${cin}; weights in [${FX.fmt(f.min)}, ${FX.fmt(f.max)}]` +
      (cin > maxSlices ? `; first ${maxSlices} of ${cin} input channels shown` : "");
    this.container.innerHTML = "";
    const at = (u, v, c, k) => w[((u * kw + v) * cin + c) * cout + k];
    for (let k = 0; k < cout; k++) {
      const card = document.createElement("div");
      card.className = "filter";
      card.innerHTML = `<b>filter ${k}</b><div class="slices"></div><small>bias ${FX.fmt(f.bias[k], 3)}</small>`;
      const slices = card.querySelector(".slices");
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
      this.container.appendChild(card);
    }
  }
};
