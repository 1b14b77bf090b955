"""Benchmark: the live lab in headless Chromium (Debian's), as a reader without a GPU gets it.

Serves the built book (``_build/html``, from ``make book``; ``$CONVLENS_BUILD_DIR`` names another
build folder) on 127.0.0.1, or, when the book is not built, ``_build/lab`` (``make lab``) under a
bare page with the same panels; no other host is reachable. Each load is measured in a freshly
started browser (empty cache), and it reports:

* load to the first drawn result: from the navigation's start to the first P(dog) bar the page
  draws for the sample photo it opens with (TensorFlow.js in the worker, the back-end, one
  model's weights: everything), on loopback and on a line throttled to 20 Mbit/s (Chrome
  DevTools' ``Network.emulateNetworkConditions``, which also holds the worker's requests);
* Grad-CAM of one photo, the model loaded: the first call and the median of the next ones;
* the lecture's 40 ascent steps at 150 px (conv2d_4, filter 3): the whole run;
* the back-end used and the bytes each variant's model costs (``model.json`` and its shards, as
  served), and the bytes of TensorFlow.js and its WASM back-end.

Goals (issue 19, 2 CPU cores, headless, no GPU): first result 3 s on loopback, Grad-CAM 0.5 s,
40 steps 10 s. A benchmark, not a test: it prints what it measured. Results also go to
``_build/bench_lab.json``.

    python bench/bench_lab.py                    # the back-end the lab picks (WASM without a GPU)
    python bench/bench_lab.py --backend cpu      # another back-end (wasm, webgl, cpu)
"""

from __future__ import annotations

import argparse
import functools
import http.server
import json
import os
import statistics
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BUILD = Path(os.environ.get("CONVLENS_BUILD_DIR", ROOT / "_build")).resolve()
LAB_BUILD = ROOT / "_build"
CHROMIUM = os.environ.get("CONVLENS_CHROMIUM", "/usr/bin/chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
GOALS = {"first_result_s": 3.0, "gradcam_s": 0.5, "ascent_40_steps_s": 10.0}
THROTTLED_BITS_PER_S = 20e6
THROTTLED_LATENCY_MS = 20
BARE_PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>convlens lab (bench)</title>
<script type="module" src="lab/convlens-lab.js"></script></head><body>
<div class="convlens-lab" data-panel="photo"></div></body></html>"""

FIRST_RESULT_JS = """async () => {
  const chooser = () => document.querySelector('[data-panel=photo] .convlens-lab-chooser');
  while (!chooser()?.dataset.firstResult) await new Promise((resolve) => setTimeout(resolve, 20));
  return {ms: Number(chooser().dataset.firstResult), backend: window.convlensLab.backend,
          photo: chooser().dataset.photo};
}"""

TIMINGS_JS = """async ([photo, steps, repeat]) => {
  const lab = await window.convlensLab.ready;
  const time = async (f) => { const t = performance.now(); await f(); return performance.now() - t; };
  const out = {gradcam: [], ascent: []};
  for (const v of lab.variants) await lab.predict(photo, v);
  for (let i = 0; i <= repeat; i++) out.gradcam.push(await time(() => lab.gradcam(photo, 'dataaug')));
  for (let i = 0; i < 2; i++) out.ascent.push(await time(() => lab.filterPattern('dataaug', 'conv2d_4', 3, {steps})));
  return {...out, backend: lab.backend};
}"""


class _Quiet(http.server.SimpleHTTPRequestHandler):
    bare = b""

    def log_message(self, *args):
        pass

    def do_GET(self):
        if self.path.split("?")[0] != "/bench.html" or not self.bare:
            return super().do_GET()
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(self.bare)))
        self.end_headers()
        self.wfile.write(self.bare)


def _site() -> tuple[Path, str, str]:
    """(folder to serve, page to open, what it is)."""
    if (BUILD / "html" / "_static" / "lab" / "lab.json").is_file():
        return BUILD / "html", "book/lab.html", "the built book's lab page (_build/html)"
    if (LAB_BUILD / "lab" / "lab.json").is_file():
        return LAB_BUILD, "bench.html", "a bare page over _build/lab (the book is not built)"
    raise SystemExit("No lab to measure: run `make lab` (or `make book`) first.")


def _serve(folder: Path) -> tuple[http.server.ThreadingHTTPServer, str]:
    handler = type("Handler", (_Quiet,), {"bare": BARE_PAGE.encode() if folder == LAB_BUILD else b""})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(handler, directory=str(folder)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/"


def _context(browser, base: str):
    context = browser.new_context()
    context.route("**/*", lambda route: route.continue_() if route.request.url.startswith((base, "data:", "blob:"))
                  else route.abort())
    return context


def _bytes(lab_dir: Path, lab: dict) -> dict:
    """Bytes each variant's model costs (model.json and shards) and TensorFlow.js with its WASM back-end.

    Read from the served files: the worker's requests are not in the page's resource timing.
    """
    sizes = {v["name"]: sum(f.stat().st_size for f in (lab_dir / v["model"]).parent.iterdir()) for v in lab["variants"]}
    sizes["tfjs"] = sum(f.stat().st_size for f in (lab_dir / "vendor").iterdir()
                        if f.name in ("tf.min.js", "tf-backend-wasm.min.js", "tfjs-backend-wasm-simd.wasm"))
    return sizes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", default=None, help="wasm, webgl or cpu (default: the lab's own choice)")
    parser.add_argument("--repeat", type=int, default=3, help="cold page loads, and Grad-CAM calls after the first")
    parser.add_argument("--steps", type=int, default=40, help="ascent steps")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    folder, page_path, what = _site()
    static = "_static/lab/" if folder != LAB_BUILD else "lab/"
    lab = json.loads((folder / static / "lab.json").read_text())
    server, base = _serve(folder)
    url = base + page_path + (f"?lab-backend={args.backend}" if args.backend else "")
    if not lab["samples"]:
        raise SystemExit("The lab has no sample photos, so no result on arrival to time: "
                         "run make lab with $CONVLENS_DATA set.")
    photo = base + static + lab["samples"][0]["file"]
    print(f"Live lab benchmark: {what}; Chromium headless, no GPU, {os.cpu_count()} CPU cores")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        loads = {"loopback": [], "20 Mbit/s": []}
        for line, runs in loads.items():
            for _ in range(args.repeat):  # a fresh browser each time: no socket or cache left by the last run
                cold = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
                context = _context(cold, base)
                page = context.new_page()
                if line != "loopback":
                    _throttle(context, page)
                page.goto(url, wait_until="commit")
                runs.append(page.evaluate(FIRST_RESULT_JS))
                cold.close()
        context = _context(browser, base)
        page = context.new_page()
        page.goto(url, wait_until="load")
        timings = page.evaluate(TIMINGS_JS, [photo, args.steps, args.repeat])
        context.close()
        browser.close()
    server.shutdown()
    results = {
        "page": what, "backend": timings["backend"], "cores": os.cpu_count(),
        "first_result_s": {line: [round(load["ms"] / 1000, 3) for load in runs] for line, runs in loads.items()},
        "first_result_photo": loads["loopback"][0]["photo"],
        "gradcam_first_s": round(timings["gradcam"][0] / 1000, 3),
        "gradcam_s": round(statistics.median(timings["gradcam"][1:]) / 1000, 3),
        "ascent_40_steps_s": [round(t / 1000, 2) for t in timings["ascent"]],
        "bytes": _bytes(folder / static, lab),
        "bytes_written": {v["name"]: v["bytes"] for v in lab["variants"]},
    }
    _report(results, args.steps)
    (LAB_BUILD / "bench_lab.json").write_text(json.dumps(results, indent=1))


def _throttle(context, page) -> None:
    """The page (and its worker) on a 20 Mbit/s line with 20 ms latency (Chrome DevTools' emulation)."""
    session = context.new_cdp_session(page)
    session.send("Network.enable")
    session.send("Network.emulateNetworkConditions", {
        "offline": False, "latency": THROTTLED_LATENCY_MS,
        "downloadThroughput": THROTTLED_BITS_PER_S / 8, "uploadThroughput": THROTTLED_BITS_PER_S / 8})


def _report(results: dict, steps: int) -> None:
    ascent = min(results["ascent_40_steps_s"])
    rows = [(f"load to first drawn result, {line} (median)", statistics.median(runs),
             GOALS["first_result_s"] if line == "loopback" else None, f"runs: {runs}")
            for line, runs in results["first_result_s"].items()]
    rows += [
        ("Grad-CAM of one photo (median, warm)", results["gradcam_s"], GOALS["gradcam_s"],
         f"first call {results['gradcam_first_s']} s"),
        (f"{steps} ascent steps at 150 px (best)", ascent, GOALS["ascent_40_steps_s"],
         f"runs: {results['ascent_40_steps_s']}"),
    ]
    print(f"back-end: {results['backend']}; first result for {results['first_result_photo']}\n")
    print(f"{'measure':<48}{'seconds':>9}{'goal':>7}  {'':6}  notes")
    for name, value, goal, note in rows:
        verdict = "" if goal is None else ("met" if value <= goal else "MISSED")
        print(f"{name:<48}{value:>9.3f}{goal or float('nan'):>7.1f}  {verdict:6}  {note}")
    print("\nbytes served: " + ", ".join(f"{name} {size:,}" for name, size in results["bytes"].items()))
    print("bytes written per model (model.json + shards): "
          + ", ".join(f"{name} {size:,}" for name, size in results["bytes_written"].items()))


if __name__ == "__main__":
    main()
