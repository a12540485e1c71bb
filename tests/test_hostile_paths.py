"""Model paths confined and broken model folders explained (issue 16, items 3 and 4).

A free model id is a catalog name, a hub id, or a folder under the allowed roots (assets,
the HF cache, ATTN_LAB_MODEL_DIRS, the session's own fine-tuned models); anything else
gets one message that names nothing, whether the path exists or not.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from lmcore.errors import UserFacingError
from lmcore.pretrained import loading as lm_loading
from lmcore.pretrained import model_paths
from tests.test_finetune import make_tiny_bert

ASSETS = Path(lm_loading.ASSETS)


def refused(name: str, extra=()) -> UserFacingError:
    with pytest.raises(UserFacingError) as info:
        model_paths.confine(name, ("tiny-bert",), extra)
    return info.value


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Path:
    return Path(make_tiny_bert(tmp_path_factory.mktemp("allowed") / "tiny"))


def test_outside_paths_get_one_message_whether_they_exist_or_not(tmp_path):
    names = ["/etc", "/root", "/nonexistent", "/etc/passwd", "../../etc", "~", "~/.ssh", str(tmp_path),
             "C:\\Windows", "http://evil.example/m", "file:///etc", "a/b/c", str(ASSETS / ".." / ".."),
             "/tmp/attnlab-sessions", "bad\x00name/x/y"]
    errors = [refused(n) for n in names]
    assert {e.key for e in errors} == {"lm.err.path_refused"}
    assert {e.message("en") for e in errors} == {errors[0].message("en")}
    assert all(not e.params for e in errors)  # the message names nothing


def test_catalog_names_hub_ids_and_allowed_folders_pass(tiny, monkeypatch):
    monkeypatch.delenv(model_paths.ENV_DIRS, raising=False)
    for name in ("tiny-bert", "bert-base-uncased", "nobody/some-model", str(ASSETS / "tiny-bert"), ""):
        model_paths.confine(name, ("tiny-bert",))
    assert refused(str(tiny)).key == "lm.err.path_refused"
    monkeypatch.setenv(model_paths.ENV_DIRS, str(tiny.parent))
    model_paths.confine(str(tiny))  # the operator's setting
    monkeypatch.delenv(model_paths.ENV_DIRS)
    model_paths.confine(str(tiny), extra_roots=[tiny.parent])  # e.g. the session's own folder


def test_a_symlink_out_of_an_allowed_root_is_refused(tmp_path, monkeypatch):
    root = tmp_path / "models"
    root.mkdir()
    (root / "escape").symlink_to("/etc")
    monkeypatch.setenv(model_paths.ENV_DIRS, str(root))
    assert refused(str(root / "escape")).key == "lm.err.path_refused"


def test_a_hub_shaped_folder_outside_the_roots_answers_like_a_missing_hub_model(tmp_path, monkeypatch):
    (tmp_path / "etc").mkdir()
    (tmp_path / "my models").mkdir()
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ATTN_LAB_ALLOW_DOWNLOAD", raising=False)
    assert refused("etc").key == "lm.err.unavailable"
    assert refused("my models").key == "errors.unknown_model"
    model_paths.confine("not-there")  # not a folder: the loader answers, with the same keys
    for missing, key in (("not-there", "lm.err.unavailable"), ("no models", "errors.unknown_model")):
        with pytest.raises(UserFacingError) as info:
            lm_loading.load_model(missing)
        assert info.value.key == key


def _copy(tiny: Path, tmp_path: Path) -> Path:
    folder = tmp_path / "copy"
    shutil.copytree(tiny, folder)
    return folder


def _copy_with_config(tiny: Path, tmp_path: Path, **fields: object) -> Path:
    """A copy of the tiny model whose config.json has `fields` changed."""
    folder = _copy(tiny, tmp_path)
    config = json.loads((folder / "config.json").read_text())
    (folder / "config.json").write_text(json.dumps(config | fields))
    return folder


@pytest.mark.parametrize("breakage,key,file", [
    (lambda f: (f / "config.json").write_text("{not json"), "lm.err.file_bad", "config.json"),
    (lambda f: (f / "config.json").write_text("[1, 2]"), "lm.err.file_bad", "config.json"),
    (lambda f: (f / "config.json").write_text(" " * 2_000_000 + "{}"), "lm.err.file_too_big", "config.json"),
    (lambda f: (f / "tokenizer.json").write_text("{oops"), "lm.err.file_bad", "tokenizer.json"),
    (lambda f: (f / "model.safetensors").unlink(), "lm.err.file_missing", "model.safetensors"),
    (lambda f: [p.unlink() for p in f.glob("tokenizer.json")] + [p.unlink() for p in f.glob("vocab.txt")],
     "lm.err.file_missing", "tokenizer.json"),
])
def test_a_broken_model_folder_names_the_file(tiny, tmp_path, breakage, key, file):
    folder = _copy(tiny, tmp_path)
    breakage(folder)
    with pytest.raises(UserFacingError) as info:
        lm_loading.load_model(str(folder))
    assert info.value.key == key and info.value.params["file"] == file
    assert file in info.value.message("ko")


@pytest.mark.parametrize("field,value", [("hidden_size", 10**9), ("num_hidden_layers", -1),
                                         ("vocab_size", "lots"), ("num_hidden_layers", 90)])
def test_a_huge_config_is_refused_before_anything_is_allocated(tiny, tmp_path, field, value):
    fields = {field: value}
    if field == "num_hidden_layers" and value == 90:
        fields.update(hidden_size=8192, intermediate_size=32768)  # each under its limit, 90 layers too many
    folder = _copy_with_config(tiny, tmp_path, **fields)
    with pytest.raises(UserFacingError) as info:
        lm_loading.load_model(str(folder))
    assert info.value.key == "lm.err.config_too_big" and "config.json" in info.value.message("en")


def test_wrong_shapes_name_the_weights_file(tiny, tmp_path):
    folder = _copy_with_config(tiny, tmp_path, hidden_size=48, intermediate_size=96)
    with pytest.raises(UserFacingError) as info:
        lm_loading.load_model(str(folder))
    assert info.value.key == "lm.err.load_failed" and "model.safetensors" in info.value.message("en")


def test_a_broken_metrics_file_does_not_stop_the_model(tiny, tmp_path):
    folder = _copy(tiny, tmp_path)
    (folder / "metrics.json").write_text("{broken")
    assert model_paths.read_metrics(folder) == {}
    assert lm_loading.load_model(str(folder)).n_layers == 2


def test_the_model_cache_is_bounded(tiny, tmp_path):
    lm_loading.clear_cache()
    for i in range(lm_loading.CACHE_SIZE + 2):
        shutil.copytree(tiny, tmp_path / f"m{i}")
        lm_loading.load_model(str(tmp_path / f"m{i}"))
    assert len(lm_loading._CACHE) == lm_loading.CACHE_SIZE
    assert str(tmp_path / "m0") not in lm_loading._CACHE
    lm_loading.clear_cache()
