"""convlens.colab: nothing inside the repository; outside it (Colab, a downloaded chapter in a
local Jupyter), the committed weights are fetched through the one fetcher (convlens.fetch, pooch).

Every server here is a fake one on 127.0.0.1 (tests/fake_http.py), never the internet. In-process
tests serve small stand-ins whose hashes replace the registry's for the test; the last tests run
the set-up as a reader gets it (the committed files): a non-editable copy of the package, imported in
another Python process started in a folder outside the repository.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import types
from pathlib import Path

import pytest
import yaml
from fake_http import closed_port_url, running

from convlens import colab, data, errors, fetch, models, paths, settings

ROOT = Path(__file__).resolve().parents[1]
H5 = b"\x89HDF\r\n\x1a\n" + b"\x00" * 64
FILES = {
    name: (H5 + variant.encode()) if name.endswith(".h5") else json.dumps({"variant": variant}).encode()
    for name in colab.MODEL_FILES
    for variant in [name.split(".")[0]]
}


@pytest.fixture
def server(monkeypatch):
    """A fake raw-file server holding FILES under data/models/, with their hashes in the registry."""
    for name, payload in FILES.items():
        monkeypatch.setitem(fetch.REGISTRY, name, "sha256:" + hashlib.sha256(payload).hexdigest())
    with running() as fake:
        for name, payload in FILES.items():
            fake.serve(f"data/models/{name}", payload)
        yield fake


@pytest.fixture
def real_server():
    """A fake raw-file server holding the committed data/models files (for the registry as it is)."""
    with running() as fake:
        for name in FILES:
            fake.serve(f"data/models/{name}", (ROOT / "data" / "models" / name).read_bytes())
        yield fake


@pytest.fixture
def outside_repository(monkeypatch, tmp_path):
    """As if run from a folder outside any clone, with no $CONVLENS_MODELS set."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    monkeypatch.setattr(paths, "search_starts", lambda: [elsewhere])
    # setenv first so that teardown restores the variable setup_colab() sets (or removes it):
    # otherwise it leaks into later tests and into nbval's kernels.
    monkeypatch.setenv(settings.MODELS_ENV, "")
    monkeypatch.delenv(settings.MODELS_ENV)
    return elsewhere


@pytest.fixture
def no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("setup_colab must not touch the network here")

    monkeypatch.setattr("requests.Session.send", refuse)


def test_inside_the_repository_does_nothing(monkeypatch, tmp_path, capsys, no_network):
    monkeypatch.chdir(ROOT / "book")  # where the chapters run
    monkeypatch.setenv(settings.MODELS_ENV, "")
    monkeypatch.delenv(settings.MODELS_ENV)
    assert colab.local_models_dir() == ROOT / "data" / "models"
    assert colab.setup_colab(cache_dir=tmp_path / "cache") is None
    assert settings.MODELS_ENV not in os.environ
    assert not (tmp_path / "cache").exists()
    assert capsys.readouterr() == ("", "")


def test_inside_the_repository_does_nothing_in_colab_either(monkeypatch, tmp_path, capsys, no_network):
    monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    monkeypatch.chdir(ROOT)
    assert colab.in_colab()
    assert colab.setup_colab(cache_dir=tmp_path / "cache") is None
    assert capsys.readouterr() == ("", "")


def test_a_models_folder_set_by_the_user_is_kept(outside_repository, monkeypatch, tmp_path, capsys, no_network):
    monkeypatch.setenv(settings.MODELS_ENV, str(tmp_path / "mine"))
    monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    assert colab.setup_colab(cache_dir=tmp_path / "cache") is None
    assert os.environ[settings.MODELS_ENV] == str(tmp_path / "mine")
    assert not (tmp_path / "cache").exists()
    assert capsys.readouterr() == ("", "")


def test_outside_the_repository_fetches_weights_and_sets_models_dir(outside_repository, server, tmp_path, capsys):
    assert colab.local_models_dir() is None
    folder = colab.setup_colab(cache_dir=tmp_path / "cache", base_url=server.base)
    assert folder == tmp_path / "cache"
    assert os.environ[settings.MODELS_ENV] == str(folder)
    assert models.models_dir() == folder
    assert models.weights_path("dataaug") == folder / "dataaug.weights.h5"
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == FILES
    assert sorted(server.requested) == sorted(f"/data/models/{name}" for name in FILES)
    assert "trained weights in" in capsys.readouterr().out


def test_in_colab_says_so(outside_repository, server, tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    colab.setup_colab(cache_dir=tmp_path, base_url=server.base)
    assert capsys.readouterr().out.startswith("convlens (Colab): trained weights in")


def test_second_call_uses_the_cache(outside_repository, server, tmp_path, monkeypatch):
    colab.setup_colab(cache_dir=tmp_path, base_url=server.base)
    server.requested.clear()
    monkeypatch.delenv(settings.MODELS_ENV)  # a new kernel
    colab.setup_colab(cache_dir=tmp_path, base_url=server.base)
    assert server.requested == []
    monkeypatch.delenv(settings.MODELS_ENV)
    colab.setup_colab(cache_dir=tmp_path, base_url=server.base, force=True)
    assert len(server.requested) == len(FILES)


def test_missing_file_warns_and_leaves_nothing_behind(outside_repository, server, tmp_path):
    del server.routes["/data/models/dataaug.weights.h5"]
    with pytest.warns(UserWarning, match="404.*Missing: dataaug.weights.h5.*tree/main/data/models"):
        folder = colab.setup_colab(cache_dir=tmp_path / "cache", base_url=server.base)
    assert sorted(p.name for p in folder.iterdir()) == sorted(set(FILES) - {"dataaug.weights.h5"})
    with pytest.raises(models.WeightsNotFoundError, match="dataaug"):
        models.load_trained("dataaug")


@pytest.mark.parametrize(
    ("name", "kind", "payload", "message"),
    [
        ("baseline.weights.h5", "ok", b"version https://git-lfs.github.com/spec/v1\noid sha256:abc\n", "Git LFS"),
        ("baseline.weights.h5", "html", b"", "web page instead of"),
        ("baseline.weights.h5", "cut", FILES["baseline.weights.h5"], "cut short: 504 of"),
        ("baseline.json", "html", b"", "web page instead of"),
        ("baseline.json", "ok", b'{"variant": "other"}', "not the expected one"),
    ],
    ids=["lfs-pointer", "html-page", "cut-short", "html-record", "other-record"],
)
def test_damaged_downloads_are_refused(outside_repository, server, tmp_path, name, kind, payload, message):
    if kind == "cut":
        payload = payload + b"\x00" * 1000
    server.serve(f"data/models/{name}", payload, kind=kind, cut_at=504)
    with pytest.warns(UserWarning, match=message):
        colab.setup_colab(cache_dir=tmp_path / "cache", base_url=server.base)
    assert sorted(p.name for p in (tmp_path / "cache").iterdir()) == sorted(set(FILES) - {name})


def test_dripping_server_is_given_up_at_the_deadline(outside_repository, server, tmp_path):
    server.serve("data/models/full.weights.h5", FILES["full.weights.h5"], kind="drip", interval=0.2)
    with pytest.warns(UserWarning, match="full.weights.h5 took longer than its deadline of 1 s"):
        colab.setup_colab(cache_dir=tmp_path, base_url=server.base, deadline=1)
    assert not (tmp_path / "full.weights.h5").exists()


def test_no_server_at_all_says_how_to_get_the_weights(outside_repository, tmp_path, capsys):
    base = closed_port_url("repo").rsplit("/", 1)[0]
    with pytest.raises(colab.ColabSetupError, match="Could not reach.*tree/main/data/models.*CONVLENS_MODELS"):
        colab.setup_colab(cache_dir=tmp_path / "cache", base_url=base, timeout=2)
    assert settings.MODELS_ENV not in os.environ
    assert list((tmp_path / "cache").iterdir()) == []
    assert issubclass(colab.ColabSetupError, errors.ConvlensError)
    assert capsys.readouterr().out == ""


def test_damaged_cached_file_is_fetched_again(outside_repository, server, tmp_path):
    (tmp_path / "baseline.weights.h5").write_bytes(b"truncated")
    colab.setup_colab(cache_dir=tmp_path, base_url=server.base)
    assert (tmp_path / "baseline.weights.h5").read_bytes() == FILES["baseline.weights.h5"]


def test_default_cache_follows_xdg(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert settings.models_cache_dir() == tmp_path / "convlens" / "models"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert settings.models_cache_dir() == tmp_path / "home" / ".cache" / "convlens" / "models"


def test_one_repository_search_for_models_and_photos(monkeypatch, tmp_path, tiny_dataset):
    """models.repo_root and data.repo_data_dir both use convlens.paths, from book/ upwards."""
    repo = tmp_path / "clone"
    (repo / "data" / "models").mkdir(parents=True)
    (repo / "data" / "cats_vs_dogs").symlink_to(tiny_dataset)
    (repo / "book").mkdir()
    monkeypatch.setattr(paths, "search_starts", lambda: [repo / "book"])
    monkeypatch.delenv(settings.MODELS_ENV, raising=False)
    assert paths.repo_root() == models.repo_root() == repo
    assert models.models_dir() == repo / "data" / "models"
    assert data.repo_data_dir() == repo / "data" / "cats_vs_dogs"
    monkeypatch.setattr(paths, "search_starts", lambda: [tmp_path / "elsewhere"])
    assert paths.repo_root() is None and models.repo_root() is None and data.repo_data_dir() is None


# --------------------------------------------------------------------------- as a reader gets it

SCENARIO = """
import json, os, sys, warnings
import convlens
from convlens import colab, models

result = {"package": convlens.__file__, "cwd": os.getcwd()}
try:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        folder = colab.setup_colab(**json.loads(sys.argv[1]))
    result["folder"] = str(folder) if folder else None
    result["warnings"] = [str(w.message) for w in caught]
    result["env"] = os.environ.get("CONVLENS_MODELS")
    if folder and sys.argv[2] == "load":
        model = models.load_trained("dataaug")
        result["loaded"] = [model.name, model.count_params()]
        result["record"] = models.training_record("dataaug")["variant"]
except Exception as exc:
    result["error"] = f"{type(exc).__name__}: {exc}"
print("RESULT " + json.dumps(result))
"""


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """A non-editable copy of the package (what a wheel install puts in site-packages)."""
    site = tmp_path_factory.mktemp("site-packages")
    shutil.copytree(ROOT / "src" / "convlens", site / "convlens", ignore=shutil.ignore_patterns("__pycache__"))
    return site


def run_installed(installed: Path, cwd: Path, home: Path, arguments: dict, load: bool = False) -> dict:
    env = {key: value for key, value in os.environ.items() if key not in ("CONVLENS_MODELS", "XDG_CACHE_HOME")}
    env.update(PYTHONPATH=str(installed), HOME=str(home), PYTHONNOUSERSITE="1")
    completed = subprocess.run(
        [sys.executable, "-c", SCENARIO, json.dumps(arguments), "load" if load else "-"],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=300, check=False,
    )
    lines = [line for line in completed.stdout.splitlines() if line.startswith("RESULT ")]
    assert lines, completed.stdout + completed.stderr
    result = json.loads(lines[-1][len("RESULT ") :])
    assert Path(result["package"]).is_relative_to(installed), "the test must import the installed copy"
    result["stdout"] = completed.stdout
    return result


@pytest.fixture
def reader(installed, tmp_path):
    """A folder outside the repository to start Jupyter in, and an empty home."""
    folder, home = tmp_path / "downloads", tmp_path / "home"
    folder.mkdir()
    home.mkdir()
    assert not folder.is_relative_to(ROOT)
    return types.SimpleNamespace(
        folder=folder, home=home, run=lambda **kw: run_installed(installed, folder, home, **kw)
    )


@pytest.mark.slow  # a Python subprocess on a non-editable copy
def test_installed_outside_the_repository_fetches_and_loads(reader, real_server):
    """The downloaded chapter's path: the real weights arrive, match the registry, and load_trained works."""
    result = reader.run(arguments={"base_url": real_server.base}, load=True)
    cache = reader.home / ".cache" / "convlens" / "models"
    assert result.get("error") is None, result
    assert result["folder"] == result["env"] == str(cache)
    assert result["loaded"] == ["dataaug", 3453121] and result["record"] == "dataaug"
    assert "convlens (outside the repository): trained weights in" in result["stdout"]
    assert sorted(p.name for p in cache.iterdir()) == sorted(FILES)


@pytest.mark.slow  # a Python subprocess on a non-editable copy
def test_installed_cut_short_and_html_are_not_kept(reader, real_server):
    dataaug = (ROOT / "data" / "models" / "dataaug.weights.h5").read_bytes()
    real_server.serve("data/models/dataaug.weights.h5", dataaug, kind="cut", cut_at=504)
    real_server.serve("data/models/baseline.weights.h5", kind="html")
    result = reader.run(arguments={"base_url": real_server.base})
    cache = Path(result["folder"])
    assert any("cut short: 504 of" in text and "web page instead of" in text for text in result["warnings"]), result
    assert not (cache / "dataaug.weights.h5").exists() and not (cache / "baseline.weights.h5").exists()
    assert (cache / "full.weights.h5").is_file()


@pytest.mark.slow  # a Python subprocess on a non-editable copy
def test_installed_slow_drip_meets_the_deadline(reader, real_server):
    real_server.serve("data/models/baseline.weights.h5", FILES["baseline.weights.h5"], kind="drip", interval=0.2)
    result = reader.run(arguments={"base_url": real_server.base, "deadline": 1})
    assert any("took longer than its deadline of 1 s" in text for text in result["warnings"]), result
    assert not (Path(result["folder"]) / "baseline.weights.h5").exists()


@pytest.mark.slow  # a Python subprocess on a non-editable copy
def test_installed_without_a_server_says_how_to_get_them(reader):
    base = closed_port_url("repo").rsplit("/", 1)[0]
    result = reader.run(arguments={"base_url": base, "timeout": 2})
    assert result["error"].startswith("ColabSetupError: Could not fetch the trained weights"), result
    assert "tree/main/data/models" in result["error"] and "CONVLENS_MODELS" in result["error"]
    assert "env" not in result or result["env"] is None


@pytest.mark.slow  # a Python subprocess on a non-editable copy
def test_installed_inside_the_repository_does_nothing(installed, tmp_path):
    """A non-editable install run from the clone's book/ finds the committed weights: no output."""
    result = run_installed(installed, ROOT / "book", tmp_path, {"base_url": closed_port_url("x")})
    assert result.get("error") is None and result["folder"] is None and result["env"] is None
    assert result["stdout"].strip().startswith("RESULT ") and result["warnings"] == []


def test_raw_base_url():
    assert colab.raw_base_url() == "https://raw.githubusercontent.com/seeing-what-convnets-learn/convlens/main"
    assert colab.raw_base_url("https://github.com/a/b/", "dev") == "https://raw.githubusercontent.com/a/b/dev"
    with pytest.raises(ValueError, match="GitHub repository URL"):
        colab.raw_base_url("https://gitlab.com/a/b")


def test_config_holds_no_second_copy_of_the_repository():
    """The URL is defined once in convlens (book/_ext/convlens_site.py gives it to Jupyter Book)."""
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    assert "url" not in config["repository"] and "branch" not in config["repository"]
    assert "convlens_site" in config["sphinx"]["local_extensions"]
    assert config["launch_buttons"]["colab_url"] == "https://colab.research.google.com"


def test_model_files_are_the_committed_weights_and_records():
    """What a notebook outside the repository fetches is what the repository commits in data/models."""
    committed = sorted(
        path.name for path in (ROOT / "data" / "models").iterdir() if path.name.endswith((".weights.h5", ".json"))
    )
    assert sorted(colab.MODEL_FILES) == committed


def _notebooks() -> list[Path]:
    return sorted((ROOT / "book").glob("*.ipynb"))


def test_the_chapters_are_there():
    """The first-cell check below runs over the chapters: none found is a failure, not an empty pass."""
    assert len(_notebooks()) >= 7, [p.name for p in _notebooks()]


@pytest.mark.parametrize("path", _notebooks(), ids=lambda p: p.name)
def test_first_code_cell_of_every_notebook(path):
    """Every chapter starts with exactly the Colab cell, so it runs in Colab unpatched."""
    notebook = json.loads(path.read_text())
    code = [cell for cell in notebook["cells"] if cell["cell_type"] == "code"]
    assert code, f"{path.name} has no code cell"
    source = "".join(code[0]["source"])
    assert source == colab.FIRST_CELL, f"{path.name}: the first code cell must be exactly convlens.colab.FIRST_CELL"
    assert not code[0].get("outputs"), f"{path.name}: the first cell must print nothing outside Colab"
