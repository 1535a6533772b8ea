// faltung explorer: the arithmetic of one neuron, with the real numbers from /api/neuron.
"use strict";
window.FX = window.FX || {};

FX.Inspector = class {
  constructor(element) {
    this.element = element;
    this.channel = 0;
  }

  error(message) {
    this.element.innerHTML = `<div class="placeholder not-ok"></div>`;
    this.element.firstChild.textContent = message;
  }

  show(ex, info) {
    this.ex = ex;
    this.info = info;
    if (ex.kind !== "conv") this.channel = 0;
    else this.channel = Math.min(this.channel, ex.channels.length - 1);
    this.render();
  }

  where(ex) {
    const p = ex.position;
    if (ex.kind === "conv") return `row ${p[0]}, col ${p[1]}, filter ${p[2]}`;
    if (p.length === 3) return `row ${p[0]}, col ${p[1]}, channel ${p[2]}`;
    return `unit ${p[p.length - 1]}`;
  }

  render() {
    const ex = this.ex, info = this.info || {};
    const parts = [];
    const hyper = [info.type, info.activation, info.kernel_size && `kernel ${info.kernel_size.join("×")}`,
                   info.pool_size && `pool ${info.pool_size.join("×")}`,
                   info.strides && `stride ${info.strides.join("×")}`, info.padding].filter(Boolean).join(" · ");
    parts.push(`<h3>${esc(ex.layer)} · ${this.where(ex)}<small>${esc(hyper)}</small></h3>`);
    const body = { conv: () => this.conv(ex), dense: () => this.dense(ex), max_pool: () => this.pool(ex),
                   avg_pool: () => this.pool(ex), flatten: () => this.flatten(ex) }[ex.kind];
    parts.push(body ? body() : this.generic(ex));
    if (ex.input_field) {
      const f = ex.input_field;
      parts.push(`<div class="field-note">sees input rows ${f.y0}…${f.y1 - 1}, columns ${f.x0}…${f.x1 - 1} ` +
                 `(a ${f.y1 - f.y0}×${f.x1 - f.x0} receptive field, dashed green on the input)</div>`);
    }
    this.element.innerHTML = parts.join("");
    this.element.querySelectorAll(".chan-sums button").forEach((b) =>
      b.addEventListener("click", () => { this.channel = Number(b.dataset.channel); this.render(); }));
  }

  verdict(ex) {
    const cls = ex.matches ? "ok" : "not-ok";
    const mark = ex.matches ? "✓ equals" : "✗ differs from";
    return `<span class="${cls}">${mark} the forward pass:</span><br>` +
      `<span class="${cls}">value = <span id="insp-value" class="v">${FX.fmt(ex.value, 5)}</span></span>`;
  }

  conv(ex) {
    const ch = ex.channels[this.channel];
    const rows = ex.inside;
    const sums = ex.channels.length > 1 ? `<div>per input channel (click one to see its products):</div>
      <div class="chan-sums">${ex.channels.map((c) => `<button data-channel="${c.channel}" class="${c.channel === this.channel ? "active" : ""}">c${c.channel}: ${FX.fmt(c.sum)}</button>`).join("")}</div>` : "";
    const terms = [];
    ch.patch.forEach((row, u) => row.forEach((x, v) => terms.push(`${FX.fmt(x, 3)}·${FX.fmt(ch.kernel[u][v], 3)}`)));
    const total = ex.channels.length > 1
      ? `Σ over ${ex.channels.length} channels = <span id="insp-total">${FX.fmt(ex.total, 5)}</span>`
      : `sum = <span id="insp-total">${FX.fmt(ex.total, 5)}</span>`;
    return `${sums}
      <div class="insp-row">
        ${block(`input patch${ex.channels.length > 1 ? ` (channel ${ch.channel})` : ""}`, table(ch.patch, rows))}
        <span class="op">⊙</span>${block(`kernel w[:, :, ${ch.channel}, ${ex.filter}]`, table(ch.kernel))}
        <span class="op">=</span>${block("element-wise products", table(ch.products, rows, true))}
        <div class="chain">
          ${total}<br>
          + bias <span id="insp-bias">${FX.fmt(ex.bias, 5)}</span> = z = <span id="insp-z">${FX.fmt(ex.z, 5)}</span><br>
          ${esc(ex.activation)}(z) = <span id="insp-result" class="v">${FX.fmt(ex.result, 5)}</span><br>
          ${this.verdict(ex)}
        </div>
      </div>
      <div class="expr">${terms.join(" + ")} = <b>${FX.fmt(ch.sum, 5)}</b></div>`;
  }

  dense(ex) {
    const maxAbs = Math.max(...ex.top.map((t) => Math.abs(t.product)), 1e-12);
    const rows = ex.top.map((t) => `<tr><td>x[${t.index}]</td><td>${FX.fmt(t.input)}</td><td>×</td>
      <td>${FX.fmt(t.weight)}</td><td>=</td><td>${FX.fmt(t.product)}</td>
      <td class="barcell"><i class="${t.product < 0 ? "neg" : ""}" style="width:${(100 * Math.abs(t.product) / maxAbs).toFixed(0)}%"></i></td></tr>`).join("");
    const softmax = ex.activation === "softmax"
      ? `softmax: e<sup>z</sup> / Σ<sub>k</sub> e<sup>z<sub>k</sub></sup> over ${ex.softmax.z_all.length} units`
      : `${esc(ex.activation)}(z)`;
    return `<div class="insp-row">
      <div class="grid-block"><span>strongest of the ${ex.inputs} contributions x[i]·w[i, ${ex.unit}]</span>
        <table class="contrib"><tr><th>input</th><th>x</th><th></th><th>w</th><th></th><th>x·w</th><th></th></tr>${rows}
        <tr><td colspan="5">+ ${ex.rest_count} other terms</td><td>${FX.fmt(ex.rest_sum)}</td><td></td></tr></table></div>
      <div class="chain">
        Σ x·w = <span id="insp-total">${FX.fmt(ex.total, 5)}</span><br>
        + bias <span id="insp-bias">${FX.fmt(ex.bias, 5)}</span> = z = <span id="insp-z">${FX.fmt(ex.z, 5)}</span><br>
        ${softmax} = <span id="insp-result" class="v">${FX.fmt(ex.result, 5)}</span><br>
        ${this.verdict(ex)}
      </div></div>`;
  }

  pool(ex) {
    const isMax = ex.kind === "max_pool";
    const line = isMax
      ? `max of the window = <span id="insp-result" class="v">${FX.fmt(ex.result, 5)}</span> (at input row ${ex.winner_input[0]}, col ${ex.winner_input[1]})`
      : `(Σ = ${FX.fmt(ex.sum, 5)}) / ${ex.count} cells = <span id="insp-result" class="v">${FX.fmt(ex.result, 5)}</span>`;
    return `<div class="insp-row">
      ${block(`input window (channel ${ex.channel})`, table(ex.patch, ex.inside, false, isMax ? ex.winner : null))}
      <div class="chain">${line}<br>${this.verdict(ex)}</div></div>`;
  }

  flatten(ex) {
    return `<div class="chain">y[${ex.position[0]}] = x[${ex.source.join(", ")}] = <span id="insp-result" class="v">${FX.fmt(ex.result, 5)}</span>
      (row-major: (row·W + col)·C + channel)<br>${this.verdict(ex)}</div>`;
  }

  generic(ex) {
    const result = ex.result !== undefined && ex.result !== null
      ? `= <span id="insp-result" class="v">${FX.fmt(ex.result, 5)}</span><br>${this.verdict(ex)}`
      : `value <span id="insp-value" class="v">${FX.fmt(ex.value, 5)}</span>`;
    let detail = ex.input !== undefined ? `x = ${FX.fmt(ex.input, 5)} → ` : "";
    if (ex.kind === "add") detail = ex.terms.map((t) => FX.fmt(t, 5)).join(" + ") + " ";
    if (ex.kind === "batch_norm") {
      detail = `${FX.fmt(ex.gamma)} · (${FX.fmt(ex.input)} − ${FX.fmt(ex.mean)}) / √(${FX.fmt(ex.variance)} + ` +
        `${FX.fmt(ex.epsilon)}) + ${FX.fmt(ex.beta)} `;
    }
    if (ex.kind === "rescaling") detail = `${FX.fmt(ex.input)} · ${FX.fmt(ex.scale)} + ${FX.fmt(ex.offset)} `;
    if (ex.activation) detail += `${esc(ex.activation)}(x) `;
    return `<div class="chain">${esc(ex.formula)}<br>${detail}${result}</div>`;
  }
};

function esc(text) {
  return String(text ?? "").replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" }[c]));
}

function block(title, html) {
  return `<div class="grid-block"><span>${esc(title)}</span>${html}</div>`;
}

// a small number table; cells outside the input (padding) are greyed, `winner` is outlined
function table(rows, inside, signed, winner) {
  return `<table class="nums">${rows.map((row, u) => `<tr>${row.map((v, w) => {
    const pad = inside && !inside[u][w];
    const win = winner && winner[0] === u && winner[1] === w;
    const colour = signed && v ? ` style="color:${v < 0 ? "#7fb6ff" : "#ffc266"}"` : "";
    return `<td class="${pad ? "pad" : ""}${win ? " win" : ""}"${colour}>${pad && v === null ? "pad" : FX.fmt(v, 3)}</td>`;
  }).join("")}</tr>`).join("")}</table>`;
}
