// faltung explorer: the page's state and wiring (input -> /api/predict -> views; click -> /api/neuron).
"use strict";
window.FX = window.FX || {};

(async function main() {
  const $ = (id) => document.getElementById(id);
  let model;
  try {
    model = await FX.api.model();
  } catch (error) {
    $("model-summary").textContent = `could not load the model: ${error.message}`;
    return;
  }
  const [H, W, C] = model.input_shape;
  $("model-summary").textContent = `${model.name} · ${model.layers.length} layers · ` +
    `${model.params.toLocaleString()} parameters · input ${H}×${W}×${C}` +
    (model.dataset ? ` · trained on ${model.dataset}` : "");

  const state = { traceId: null, selection: null, result: null, sample: null };
  const inspector = new FX.Inspector($("inspector"));
  const layersView = new FX.LayersView($("columns"), model, select);
  layersView.onHover = (text) => { $("hover").textContent = text; };
  let filtersView = null, net3d = null;

  // ---- predictions, throttled: at most one request in flight, the newest input wins ----------
  let pending = null, inFlight = false, lastSent = 0;
  const MIN_INTERVAL_MS = 40;
  function request(body) { pending = body; document.body.dataset.busy = "1"; pump(); }
  async function pump() {
    if (inFlight || !pending) return;
    const wait = MIN_INTERVAL_MS - (performance.now() - lastSent);
    if (wait > 0) { setTimeout(pump, wait); return; }
    const body = pending;
    pending = null;
    inFlight = true;
    lastSent = performance.now();
    try {
      const result = await FX.api.predict(body);
      show(result, performance.now() - lastSent);
      $("input-error").hidden = true;
    } catch (error) {
      $("input-error").textContent = error.message;
      $("input-error").hidden = false;
    } finally {
      inFlight = false;
      if (!pending) delete document.body.dataset.busy;
      pump();
    }
  }

  async function show(result, roundTrip) {
    state.result = result;
    state.traceId = result.trace_id;
    layersView.update(result);
    $("seen").src = result.input_png;
    $("top-name").textContent = result.top_name;
    $("top-prob").textContent = `${(100 * result.probabilities[result.top_class]).toFixed(1)} % sure`;
    $("true-label").textContent = result.label !== null && result.label !== undefined
      ? `true label: ${model.class_names[result.label] ?? result.label}` : "";
    $("timing").textContent = `server ${result.elapsed_ms.toFixed(1)} ms` +
      (roundTrip ? ` · round trip ${roundTrip.toFixed(0)} ms` : "");
    if (net3d) net3d.setData(FX.decodeActivation(result.input), layersView.acts);
    if (filtersView && $("view-filters").classList.contains("active")) filtersView.refresh();
    document.body.dataset.predictions = String(Number(document.body.dataset.predictions || 0) + 1);
    if (state.selection) await select(state.selection.layer, state.selection.position, true);
  }

  // ---- one neuron: the arithmetic, and its input window in the layer below --------------------
  async function select(layer, position, quiet) {
    state.selection = { layer, position };
    try {
      const ex = await FX.api.neuron(layer, position, state.traceId);
      state.selection.ex = ex;
      inspector.show(ex, model.layers[layer]);
      layersView.highlight(layer, position, ex);
      if (net3d) net3d.select(layer, position, ex);
    } catch (error) {
      if (!quiet) inspector.error(error.message);
    }
  }

  // arrow keys walk the selected neuron over its feature map (or along its vector)
  document.addEventListener("keydown", (e) => {
    const moves = { ArrowUp: [-1, 0], ArrowDown: [1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1] };
    if (!state.selection || !moves[e.key] || e.target.tagName === "INPUT" || e.target.tagName === "SELECT") return;
    e.preventDefault();
    const [dy, dx] = moves[e.key];
    const shape = model.layers[state.selection.layer].output_shape;
    const p = state.selection.position.slice();
    if (p.length === 3) {
      p[0] = Math.min(shape[0] - 1, Math.max(0, p[0] + dy));
      p[1] = Math.min(shape[1] - 1, Math.max(0, p[1] + dx));
      if (shape[0] * shape[1] === 1) p[2] = Math.min(shape[2] - 1, Math.max(0, p[2] + dx + dy));
    } else {
      p[0] = Math.min(shape[0] - 1, Math.max(0, p[0] + dx + dy));
    }
    select(state.selection.layer, p);
  });

  // ---- inputs --------------------------------------------------------------------------------
  const pad = new FX.Pad($("pad"), () => {
    if (pad.empty) return;
    state.sample = null;
    document.querySelectorAll(".samples img.active").forEach((i) => i.classList.remove("active"));
    request({ image: pad.dataURL(), fit: "auto" });
  });
  $("clear").addEventListener("click", () => {
    pad.clear(false);
    request({ pixels: zeros(...model.image_shape) });
  });
  $("upload").addEventListener("change", async (e) => {
    const file = e.target.files[0];
    if (!file) return;
    try {
      const started = performance.now();
      const result = await FX.api.upload(file);
      pad.clear(false);
      show(result, performance.now() - started);
      $("input-error").hidden = true;
    } catch (error) {
      $("input-error").textContent = error.message;
      $("input-error").hidden = false;
    }
    e.target.value = "";
  });

  let sampleOffset = 0;
  async function loadSamples() {
    try {
      const data = await FX.api.samples(12, sampleOffset);
      $("samples-dataset").textContent = `${data.dataset}, ${data.count.toLocaleString()} test images`;
      const box = $("samples");
      box.innerHTML = "";
      data.samples.forEach((s) => {
        const img = document.createElement("img");
        img.src = s.image;
        img.title = `#${s.index}: ${s.label_name}`;
        img.addEventListener("click", () => {
          box.querySelectorAll("img").forEach((i) => i.classList.toggle("active", i === img));
          pad.clear(false);
          request({ sample: s.index });
        });
        box.appendChild(img);
      });
      $("samples-card").hidden = false;
      return data;
    } catch (error) {
      $("samples-card").hidden = true;
      return null;
    }
  }
  $("more-samples").addEventListener("click", () => { sampleOffset += 12; loadSamples(); });

  // ---- views ---------------------------------------------------------------------------------
  $("per-map").addEventListener("change", (e) => { layersView.perMap = e.target.checked; layersView.redraw(); });
  document.querySelectorAll("#tabs button").forEach((button) => button.addEventListener("click", async () => {
    document.querySelectorAll("#tabs button").forEach((b) => b.classList.toggle("active", b === button));
    document.querySelectorAll(".view").forEach((v) => v.classList.toggle("active", v.id === `view-${button.dataset.view}`));
    if (button.dataset.view === "filters") {
      filtersView = filtersView || new FX.FiltersView($("filter-layer"), $("filters"), $("filter-info"), model,
        (name) => layersView.acts && layersView.acts[model.layers.findIndex((l) => l.name === name)]);
      await filtersView.refresh();
    }
    if (button.dataset.view === "net3d") {
      if (!net3d) {
        net3d = FX.net3d = new FX.Net3D($("net3d"), model, select);
        $("net3d-info").textContent = "Flatten and Dropout layers are not drawn (they only reorder or pass values on).";
      }
      if (state.result) net3d.setData(FX.decodeActivation(state.result.input), layersView.acts);
      if (state.selection && state.selection.ex) {
        net3d.select(state.selection.layer, state.selection.position, state.selection.ex);
      }
    }
  }));

  function zeros(h, w, c) {
    return Array.from({ length: h }, () => Array.from({ length: w }, () => new Array(c).fill(0)));
  }

  // start with a test image if the data set is at hand, else with an empty input
  const samples = model.samples_available ? await loadSamples() : null;
  request(samples && samples.samples.length ? { sample: samples.samples[0].index } : { pixels: zeros(...model.image_shape) });
  if (samples && samples.samples.length) $("samples").firstChild.classList.add("active");
  document.body.dataset.ready = "1";
})();
