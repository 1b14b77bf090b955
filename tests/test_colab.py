"""convlens.colab: nothing outside Colab; in Colab, the weights are fetched and found (no network)."""

from __future__ import annotations

import functools
import http.server
import json
import os
import sys
import threading
import types
import urllib.error
from pathlib import Path

import pytest
import yaml

from convlens import colab, models

ROOT = Path(__file__).resolve().parents[1]
H5 = b"\x89HDF\r\n\x1a\n" + b"\x00" * 64
FILES = {
    "baseline.weights.h5": H5 + b"baseline",
    "baseline.json": json.dumps({"variant": "baseline"}).encode(),
    "dataaug.weights.h5": H5 + b"dataaug",
    "dataaug.json": json.dumps({"variant": "dataaug"}).encode(),
}


class _Response:
    """What ``urllib.request.urlopen`` returns, enough for ``shutil.copyfileobj``."""

    def __init__(self, data: bytes):
        self._data = data

    def read(self, size: int = -1) -> bytes:
        chunk, self._data = (self._data, b"") if size < 0 else (self._data[:size], self._data[size:])
        return chunk

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


@pytest.fixture
def fake_repo(monkeypatch):
    """urlopen serves FILES under the raw URL of the repository and records every URL asked for."""
    requested: list[str] = []
    served = dict(FILES)
    prefix = colab.raw_base_url() + "/data/models/"

    def urlopen(url, timeout=None):
        requested.append(url)
        name = url[len(prefix) :] if url.startswith(prefix) else None
        if name not in served:
            raise urllib.error.HTTPError(url, 404, "Not Found", {}, None)
        return _Response(served[name])

    monkeypatch.setattr(colab.urllib.request, "urlopen", urlopen)
    return types.SimpleNamespace(requested=requested, served=served)


@pytest.fixture
def in_colab(monkeypatch):
    monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    # setenv first so that teardown restores the variable setup_colab() sets (or removes it):
    # otherwise it leaks into later tests and into nbval's kernels.
    monkeypatch.setenv(colab.MODELS_ENV_VAR, "")
    monkeypatch.delenv(colab.MODELS_ENV_VAR)


def test_outside_colab_does_nothing(monkeypatch, tmp_path, capsys):
    monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    monkeypatch.setenv(colab.MODELS_ENV_VAR, "unchanged")

    def no_network(*args, **kwargs):
        raise AssertionError("setup_colab must not touch the network outside Colab")

    monkeypatch.setattr(colab.urllib.request, "urlopen", no_network)
    assert colab.in_colab() is False
    assert colab.setup_colab(cache_dir=tmp_path / "cache") is None
    assert os.environ[colab.MODELS_ENV_VAR] == "unchanged"
    assert not (tmp_path / "cache").exists()
    assert capsys.readouterr() == ("", "")


def test_in_colab_fetches_weights_and_sets_models_dir(in_colab, fake_repo, tmp_path, capsys):
    folder = colab.setup_colab(cache_dir=tmp_path / "cache")
    assert folder == tmp_path / "cache"
    assert os.environ[colab.MODELS_ENV_VAR] == str(folder)
    assert models.models_dir() == folder
    assert models.weights_path("dataaug") == folder / "dataaug.weights.h5"
    assert models.training_record("baseline") == {"variant": "baseline"}
    for name, data in FILES.items():
        assert (folder / name).read_bytes() == data
    assert sorted(fake_repo.requested) == sorted(
        f"https://raw.githubusercontent.com/seeing-what-convnets-learn/convlens/main/data/models/{name}"
        for name in FILES
    )
    assert not list(folder.glob("*.part"))
    assert "trained weights in" in capsys.readouterr().out


def test_second_call_uses_the_cache(in_colab, fake_repo, tmp_path):
    colab.setup_colab(cache_dir=tmp_path)
    fake_repo.requested.clear()
    colab.setup_colab(cache_dir=tmp_path)
    assert fake_repo.requested == []
    colab.setup_colab(cache_dir=tmp_path, force=True)
    assert len(fake_repo.requested) == len(FILES)


def test_missing_file_warns_and_leaves_nothing_behind(in_colab, fake_repo, tmp_path):
    del fake_repo.served["dataaug.weights.h5"]
    with pytest.warns(UserWarning, match="dataaug.weights.h5"):
        folder = colab.setup_colab(cache_dir=tmp_path)
    assert not (folder / "dataaug.weights.h5").exists()
    assert not (folder / "dataaug.weights.h5.part").exists()
    assert (folder / "baseline.weights.h5").is_file()
    with pytest.raises(models.WeightsNotFoundError, match="dataaug"):
        models.load_trained("dataaug")


@pytest.mark.parametrize(
    ("name", "payload", "message"),
    [
        ("baseline.weights.h5", b"version https://git-lfs.github.com/spec/v1\noid sha256:abc\n", "Git LFS"),
        ("baseline.weights.h5", b"<!DOCTYPE html><html>rate limited</html>", "not an HDF5"),
        ("baseline.json", b"<html>", "not valid JSON"),
    ],
)
def test_damaged_downloads_are_refused(in_colab, fake_repo, tmp_path, name, payload, message):
    fake_repo.served[name] = payload
    with pytest.warns(UserWarning, match=message):
        colab.setup_colab(cache_dir=tmp_path)
    assert not (tmp_path / name).exists()


def test_damaged_cached_file_is_fetched_again(in_colab, fake_repo, tmp_path):
    (tmp_path / "baseline.weights.h5").write_bytes(b"truncated")
    colab.setup_colab(cache_dir=tmp_path)
    assert (tmp_path / "baseline.weights.h5").read_bytes() == FILES["baseline.weights.h5"]


def test_real_http_download_from_a_local_server(in_colab, tmp_path):
    """The urllib path end to end, against a server on 127.0.0.1 (never the internet)."""
    served = tmp_path / "repo"
    (served / "data" / "models").mkdir(parents=True)
    for name, data in FILES.items():
        (served / "data" / "models" / name).write_bytes(data)

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(served)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}"
        folder = colab.setup_colab(cache_dir=tmp_path / "cache", base_url=base)
    finally:
        server.shutdown()
        server.server_close()
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == FILES


def test_raw_base_url():
    assert colab.raw_base_url() == "https://raw.githubusercontent.com/seeing-what-convnets-learn/convlens/main"
    assert colab.raw_base_url("https://github.com/a/b/", "dev") == "https://raw.githubusercontent.com/a/b/dev"
    with pytest.raises(ValueError, match="GitHub repository URL"):
        colab.raw_base_url("https://gitlab.com/a/b")


def test_config_names_the_same_repository():
    """The URL is defined once in convlens; _config.yml's copy (for Jupyter Book) must agree."""
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    assert config["repository"]["url"] == colab.REPOSITORY_URL
    assert config["repository"]["branch"] == colab.BRANCH
    assert config["launch_buttons"]["colab_url"] == "https://colab.research.google.com"


def test_model_files_match_the_trained_variants():
    assert {name.split(".")[0] for name in colab.MODEL_FILES} == set(models.VARIANTS)


def _notebooks() -> list[Path]:
    return sorted((ROOT / "book").glob("*.ipynb"))


@pytest.mark.skipif(not _notebooks(), reason="no chapter notebook in book/ yet")
@pytest.mark.parametrize("path", _notebooks(), ids=lambda p: p.name)
def test_first_code_cell_of_every_notebook(path):
    """Every chapter starts with exactly the Colab cell, so it runs in Colab unpatched."""
    notebook = json.loads(path.read_text())
    code = [cell for cell in notebook["cells"] if cell["cell_type"] == "code"]
    assert code, f"{path.name} has no code cell"
    source = "".join(code[0]["source"])
    assert source == colab.FIRST_CELL, f"{path.name}: the first code cell must be exactly convlens.colab.FIRST_CELL"
    assert not code[0].get("outputs"), f"{path.name}: the first cell must print nothing outside Colab"
