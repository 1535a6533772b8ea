"""End to end in real headless Chromium: draw digits on the explorer page and watch the network.

Runs the shipped LeNet-5 (faltung/applications/pretrained/) behind uvicorn on a free port,
draws a "1" (a vertical stroke) and a "0" (a ring) with mouse events, and checks the
prediction, the feature maps, and a conv neuron's arithmetic as the page shows them.
Every wait has a timeout, so a broken page fails instead of hanging.
"""
import math
import os
import shutil
import socket
import threading
import time

import pytest
import uvicorn
from playwright.sync_api import sync_playwright

from faltung.explorer.command import DEFAULT_MODEL, load_model_and_info
from faltung.explorer.server import create_app
from tests.conftest import SHARED_DATASETS

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
TIMEOUT_MS = 15_000


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server_url():
    assert DEFAULT_MODEL.exists(), f"the shipped model is missing: {DEFAULT_MODEL}"
    assert (SHARED_DATASETS / "mnist").is_dir(), f"test data missing: {SHARED_DATASETS}/mnist"
    old_data = os.environ.get("FALTUNG_DATA")
    os.environ["FALTUNG_DATA"] = str(SHARED_DATASETS)   # the page starts on an MNIST test image
    model, info = load_model_and_info(None)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(model, info), host="127.0.0.1", port=port,
                                           log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "the explorer server did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}/"
    server.should_exit = True
    thread.join(timeout=10)
    if old_data is None:
        os.environ.pop("FALTUNG_DATA", None)
    else:
        os.environ["FALTUNG_DATA"] = old_data


@pytest.fixture(scope="module")
def page(server_url):
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS,
                                             timeout=30_000)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.set_default_timeout(TIMEOUT_MS)
            errors = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.goto(server_url, timeout=TIMEOUT_MS)
            page.wait_for_function("Number(document.body.dataset.predictions || 0) >= 1")
            page.errors = errors
            yield page
        finally:
            browser.close()


def stroke(page, points):
    """Press, move through ``points`` (fractions of the pad), release."""
    box = page.locator("#pad").bounding_box()
    xy = [(box["x"] + fx * box["width"], box["y"] + fy * box["height"]) for fx, fy in points]
    page.mouse.move(*xy[0])
    page.mouse.down()
    for x, y in xy[1:]:
        page.mouse.move(x, y, steps=2)
    page.mouse.up()


def predicted_after(page, points):
    page.click("#clear")
    count = int(page.evaluate("document.body.dataset.predictions"))
    stroke(page, points)
    page.wait_for_function(f"Number(document.body.dataset.predictions) > {count} + 1")
    page.wait_for_timeout(400)  # the final request after the mouse-up
    page.wait_for_function("!document.body.dataset.busy")
    return page.inner_text("#top-name").strip()


def test_drawing_a_one_then_a_zero_changes_the_prediction(page):
    one = [(0.5, 0.15 + 0.7 * k / 20) for k in range(21)]
    zero = [(0.5 + 0.24 * math.sin(2 * math.pi * k / 40), 0.5 - 0.32 * math.cos(2 * math.pi * k / 40))
            for k in range(42)]
    assert predicted_after(page, one) == "1"
    assert predicted_after(page, zero) == "0"
    bars = page.locator(".bar.top .label")
    assert bars.count() == 1 and bars.inner_text().strip() == "0"
    assert page.errors == []


def test_feature_maps_are_not_blank(page):
    # per column: how many of its canvases have more than one colour
    varied = page.evaluate("""() => [...document.querySelectorAll('.column')].slice(1).map(col =>
        [...col.querySelectorAll('.map canvas')].filter(c => {
            const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
            for (let i = 4; i < d.length; i += 4)
                if (d[i] !== d[0] || d[i + 1] !== d[1] || d[i + 2] !== d[2]) return true;
            return false;
        }).length)""")
    kinds = page.evaluate("[...document.querySelectorAll('.column')].slice(1).map(c => "
                          "c.querySelectorAll('.map canvas').length)")
    assert len(varied) == 8
    for count, total in zip(varied, kinds):
        if total:                                  # maps and vectors; the last layer is bars
            assert count >= 1
    assert varied[0] >= 4                          # most maps of the first conv layer show the digit


def test_clicking_a_conv_neuron_shows_arithmetic_that_adds_up(page, tmp_path):
    target = page.locator(".column").nth(3).locator(".map canvas").first   # conv2d_1, filter 0
    box = target.bounding_box()
    page.mouse.click(box["x"] + box["width"] * 0.45, box["y"] + box["height"] * 0.55)
    page.wait_for_selector("#insp-result")
    numbers = {name: float(page.inner_text(f"#insp-{name}"))
               for name in ("total", "bias", "z", "result", "value")}
    assert numbers["result"] == pytest.approx(numbers["value"], abs=2e-5)
    assert numbers["total"] + numbers["bias"] == pytest.approx(numbers["z"], abs=2e-5)
    assert "equals the forward pass" in page.inner_text("#inspector")
    channel_buttons = page.locator(".chan-sums button")
    assert channel_buttons.count() == 6            # conv2d_1 reads the 6 maps of the layer below
    assert page.locator(".column").nth(2).locator(".box").count() == 6   # its window in each of them
    title = page.inner_text("#inspector h3")
    row, col = int(title.split("row ")[1].split(",")[0]), int(title.split("col ")[1].split(",")[0])
    page.keyboard.press("ArrowRight")                  # the selection walks over the map
    page.wait_for_function(f"document.querySelector('#inspector h3').textContent.includes('row {row}, col {col + 1},')")
    assert float(page.inner_text("#insp-result")) == pytest.approx(float(page.inner_text("#insp-value")), abs=2e-5)
    page.mouse.move(0, 0)
    shot = tmp_path / "explorer.png"
    page.screenshot(path=str(shot))
    assert shot.stat().st_size > 20_000
    if os.environ.get("FALTUNG_EXPLORER_SCREENSHOT"):
        shutil.copy(shot, os.environ["FALTUNG_EXPLORER_SCREENSHOT"])
    # the 3D view draws and picks nodes too
    page.click("#tabs button[data-view=net3d]")
    page.wait_for_timeout(300)
    painted = page.evaluate("""() => { const c = document.getElementById('net3d');
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let n = 0; for (let i = 0; i < d.length; i += 4) if (d[i] > 100) n++; return n; }""")
    assert painted > 500
    # clicking a node picks that neuron: node 0 of the 84-unit dense layer, at its projected place
    x, y = page.evaluate("""() => { const p = FX.net3d.byLayer.get(6), r = FX.net3d.canvas.getBoundingClientRect();
        return [r.left + p.sx[0], r.top + p.sy[0]]; }""")
    page.mouse.click(x, y)
    page.wait_for_function("document.querySelector('#inspector h3').textContent.startsWith('dense · unit 0')")
    assert float(page.inner_text("#insp-result")) == pytest.approx(float(page.inner_text("#insp-value")), abs=2e-5)
    page.click("#tabs button[data-view=layers]")


def test_upload_and_test_images(page):
    import io

    import numpy as np
    from PIL import Image
    yy, xx = np.mgrid[:120, :120]
    ring = np.where(np.abs(np.hypot((yy - 60) / 1.4, xx - 60) - 30) < 6, 0, 255).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(ring).save(buffer, format="PNG")            # dark ink on white paper
    count = int(page.evaluate("document.body.dataset.predictions"))
    page.set_input_files("#upload", files=[{"name": "zero.png", "mimeType": "image/png",
                                            "buffer": buffer.getvalue()}])
    page.wait_for_function(f"Number(document.body.dataset.predictions) > {count}")
    assert page.inner_text("#top-name").strip() == "0"
    page.set_input_files("#upload", files=[{"name": "notes.txt", "mimeType": "text/plain",
                                            "buffer": b"not an image"}])
    page.wait_for_selector("#input-error:not([hidden])")
    assert "could not decode" in page.inner_text("#input-error")
    count = int(page.evaluate("document.body.dataset.predictions"))
    page.locator(".samples img").nth(1).click()                   # MNIST test image #1: a 2
    page.wait_for_function(f"Number(document.body.dataset.predictions) > {count}")
    assert page.inner_text("#true-label").strip() == "true label: 2"
    assert page.inner_text("#top-name").strip() == "2"
    assert page.is_hidden("#input-error")
