"""The live lab on real JPEG files: the browser's decoding gives the book's numbers (issue 26).

The lab decodes a reader's photo with the browser, the book with ``convlens.images.load_image``
(PIL: accurate DCT, EXIF orientation applied). Here Debian's Chromium opens the built book's lab
page (``make book`` builds ``_build/html``; ``$CONVLENS_BUILD_DIR``), served from 127.0.0.1 with
every other host refused, and gives the lab the JPEG files themselves, not PNGs of the book's
pixels: 100 validation photos from ``$CONVLENS_DATA`` (50 per class, spread over the split; a failure
without them), a phone-style photo with an EXIF Orientation tag and a progressive JPEG that this
test writes. For each model, the lab's P(dog) must lie within 1e-4 of Keras's on ``load_image`` of
the same file (on WASM, what readers without a GPU get). All predictions run in one page
evaluation. The measured differences go to ``_build/lab-jpeg-parity.json``.
"""

from __future__ import annotations

import functools
import http.server
import io
import json
import os
import threading
from pathlib import Path

import numpy as np
import pytest
from testkit import LocalOnly, chromium

ROOT = Path(__file__).resolve().parents[1]
BUILD = Path(os.environ.get("CONVLENS_BUILD_DIR", ROOT / "_build")).resolve()
BOOK = BUILD / "html"
LAB_PAGE = "book/lab.html"
RESULTS = BUILD / "lab-jpeg-parity.json"
PHOTOS_PATH = "/__jpeg__/"
PHOTOS_PER_CLASS = 50
BAR = 1e-4
"""The lab's parity bar for P(dog), as in tests/test_lab.py."""

pytestmark = pytest.mark.browser

PREDICT_JS = """async ({urls, variants}) => {
  const lab = await window.convlensLab.ready;
  const out = Object.fromEntries(variants.map((variant) => [variant, []]));
  for (const url of urls) {
    for (const variant of variants) out[variant].push(await lab.predict(url, variant));
  }
  return out;
}"""


def _fast_decoding(raw: bytes) -> np.ndarray:
    """The book's loader before issue 26: TensorFlow's default JPEG decoding (fast integer DCT, no EXIF)."""
    import tensorflow as tf

    image = tf.image.resize(tf.cast(tf.io.decode_jpeg(raw, channels=3), tf.float32), (150, 150), antialias=True)
    return (tf.clip_by_value(tf.round(image), 0, 255) / 255).numpy()[None]


def _made_jpegs() -> dict[str, bytes]:
    """A phone-style photo stored sideways with EXIF Orientation 6, and a progressive JPEG."""
    from PIL import Image

    rng = np.random.default_rng(26)
    y, x = np.mgrid[0:240, 0:320].astype(np.float32)
    scene = np.stack([255 * x / 320, 255 * y / 240, 128 + 60 * np.sin(x / 9 + y / 13)], axis=-1)
    scene[:80, :90] = (30, 40, 230)
    pixels = np.clip(scene + rng.normal(0, 8, scene.shape), 0, 255).astype(np.uint8)
    made = {}
    for name, options in (("exif-rotated.jpg", {"orientation": 6}), ("progressive.jpg", {"progressive": True})):
        exif = Image.Exif()
        if "orientation" in options:
            exif[0x0112] = options.pop("orientation")
        stream = io.BytesIO()
        Image.fromarray(pixels).save(stream, format="JPEG", quality=88, exif=exif.tobytes(), **options)
        made[name] = stream.getvalue()
    return made


@pytest.fixture(scope="module")
def jpegs(real_data_dir) -> dict[str, bytes]:
    """File name -> bytes: the validation JPEGs, then the two written here."""
    from convlens.images import image_files

    chosen = {}
    for name in ("cats", "dogs"):
        files = [f for f in image_files(real_data_dir / "validation" / name) if f.suffix.lower() in (".jpg", ".jpeg")]
        if len(files) < PHOTOS_PER_CLASS:
            pytest.fail(f"fewer than {PHOTOS_PER_CLASS} JPEG photos in {real_data_dir / 'validation' / name}")
        for i in np.linspace(0, len(files) - 1, PHOTOS_PER_CLASS).astype(int):
            chosen[files[i].name] = files[i].read_bytes()
    return {**chosen, **_made_jpegs()}


@pytest.fixture(scope="module")
def server(jpegs):
    if not (BOOK / "_static" / "lab" / "lab.json").is_file():
        pytest.fail(f"{BOOK / '_static' / 'lab'} is absent: build the book first (make book; make test builds it)")

    class Handler(http.server.SimpleHTTPRequestHandler):
        """The built book, plus the JPEG files under /__jpeg__/ (bytes held in memory)."""

        def log_message(self, *args):
            pass

        def do_GET(self):
            if not self.path.startswith(PHOTOS_PATH):
                return super().do_GET()
            body = jpegs.get(self.path[len(PHOTOS_PATH):])
            if body is None:
                return self.send_error(404)
            self.send_response(200)
            self.send_header("Content-Type", "image/jpeg")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=str(BOOK)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="module")
def browser():
    yield from chromium()


def test_jpeg_files_give_kerass_probabilities(browser, server, jpegs):
    from PIL import Image

    from convlens.gradcam import predict_dog
    from convlens.images import load_image
    from convlens.models import load_trained
    from convlens.tfjs import variant_names

    variants = list(variant_names())
    names = list(jpegs)
    inputs = np.concatenate([load_image(jpegs[name]) for name in names])
    fast = np.concatenate([_fast_decoding(jpegs[name]) for name in names])
    upright = Image.open(io.BytesIO(jpegs["exif-rotated.jpg"]))
    assert upright.size == (320, 240) and upright.getexif()[0x0112] == 6, "stored sideways, shown upright"
    assert Image.open(io.BytesIO(jpegs["progressive.jpg"])).info.get("progressive")

    context = browser.new_context(viewport={"width": 1280, "height": 900})
    route = LocalOnly(server)
    context.route("**/*", route)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(f"uncaught exception: {error}"))
    try:
        page.goto(server + LAB_PAGE + "?lab-backend=wasm", wait_until="load")
        page.set_default_timeout(120_000)
        found = page.evaluate(PREDICT_JS, {"urls": [PHOTOS_PATH + name for name in names], "variants": variants})
    finally:
        context.close()

    table = {}
    for variant in variants:
        model = load_trained(variant)
        keras = predict_dog(model, inputs)
        lab = np.asarray(found[variant], dtype=np.float64)
        difference = np.abs(lab - keras)
        table[variant] = {"max_abs_difference": float(difference.max()), "photos": len(names),
                          "fast_dct_max_abs_difference": float(np.abs(lab - predict_dog(model, fast)).max()),
                          "worst": names[int(difference.argmax())],
                          "made_here": {name: float(difference[names.index(name)]) for name in _made_jpegs()}}
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(table, indent=1))
    assert not route.blocked, f"the lab asked for other hosts: {route.blocked}"
    assert not errors, errors
    for variant, row in table.items():
        assert row["max_abs_difference"] <= BAR, (variant, row)
    assert min(row["fast_dct_max_abs_difference"] for row in table.values()) > BAR, (
        "TensorFlow's fast decoding should miss the bar on these files: else the test could not see a decoder change")
