"""The model file is data: checked on load, refused with one clear error when damaged."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

import boilerclf
from boilerclf.model import CONFIG_FILE, WEIGHTS_FILE, ModelError, default_model_path


@pytest.fixture
def model_copy(tmp_path: Path) -> Path:
    for name in (CONFIG_FILE, WEIGHTS_FILE):
        shutil.copy(default_model_path() / name, tmp_path / name)
    return tmp_path


def test_copy_loads_and_predicts_like_the_original(model_copy: Path, classifier: boilerclf.Classifier) -> None:
    paragraphs = ["A headline about rivers", "Subscribe now", "Share on Facebook"]
    np.testing.assert_array_equal(boilerclf.Classifier(model_copy).predict_proba(paragraphs), classifier.predict_proba(paragraphs))


def test_weights_load_without_pickle() -> None:
    with np.load(default_model_path() / WEIGHTS_FILE, allow_pickle=False) as npz:
        assert all(npz[name].dtype != object for name in npz.files)


def test_tampered_weights_are_refused(model_copy: Path) -> None:
    data = bytearray((model_copy / WEIGHTS_FILE).read_bytes())
    data[len(data) // 2] ^= 0xFF
    (model_copy / WEIGHTS_FILE).write_bytes(bytes(data))
    with pytest.raises(ModelError, match="checksum"):
        boilerclf.Classifier(model_copy)


def test_truncated_weights_are_refused(model_copy: Path) -> None:
    data = (model_copy / WEIGHTS_FILE).read_bytes()
    (model_copy / WEIGHTS_FILE).write_bytes(data[: len(data) // 3])
    with pytest.raises(ModelError, match="checksum"):
        boilerclf.Classifier(model_copy)


def test_truncated_weights_with_matching_checksum_are_refused(model_copy: Path) -> None:
    from boilerclf.model import _file_sha256

    data = (model_copy / WEIGHTS_FILE).read_bytes()
    (model_copy / WEIGHTS_FILE).write_bytes(data[: len(data) // 3])
    config = json.loads((model_copy / CONFIG_FILE).read_text())
    config["weights_sha256"] = _file_sha256(model_copy / WEIGHTS_FILE)
    (model_copy / CONFIG_FILE).write_text(json.dumps(config))
    with pytest.raises(ModelError, match="unreadable weights"):
        boilerclf.Classifier(model_copy)


@pytest.mark.parametrize(
    "config, message",
    [
        ("not json at all", "unreadable model config"),
        ('{"format": "something-else"}', "not a boilerclf model config"),
        ('{"format": "boilerclf-model", "format_version": 99}', "retrain"),
    ],
)
def test_foreign_or_future_configs_are_refused(model_copy: Path, config: str, message: str) -> None:
    (model_copy / CONFIG_FILE).write_text(config)
    with pytest.raises(ModelError, match=message):
        boilerclf.Classifier(model_copy)


def _rewrite_weights(model_dir: Path, change) -> None:
    """Change the weights arrays and re-sign them, as a model from another version would be."""
    from boilerclf.model import _file_sha256

    with np.load(model_dir / WEIGHTS_FILE, allow_pickle=False) as npz:
        arrays = {name: npz[name] for name in npz.files}
    change(arrays)
    np.savez(model_dir / WEIGHTS_FILE, **arrays)
    config = json.loads((model_dir / CONFIG_FILE).read_text())
    config["weights_sha256"] = _file_sha256(model_dir / WEIGHTS_FILE)
    (model_dir / CONFIG_FILE).write_text(json.dumps(config))


def test_stage_two_for_other_context_features_is_refused(model_copy: Path) -> None:
    def drop_a_feature(arrays: dict) -> None:
        for name in ("s2_mean", "s2_scale"):
            arrays[name] = arrays[name][:-1]
        arrays["s2_w0"] = arrays["s2_w0"][:-1]

    _rewrite_weights(model_copy, drop_a_feature)
    with pytest.raises(ModelError, match="other context features"):
        boilerclf.Classifier(model_copy)


def test_stage_two_layers_that_do_not_chain_are_refused(model_copy: Path) -> None:
    def narrow_the_last_layer(arrays: dict) -> None:
        arrays["s2_w1"] = arrays["s2_w1"][:-1]

    _rewrite_weights(model_copy, narrow_the_last_layer)
    with pytest.raises(ModelError, match="does not fit"):
        boilerclf.Classifier(model_copy)


def test_a_missing_stage_three_is_refused(model_copy: Path) -> None:
    def drop_stage_three(arrays: dict) -> None:
        for name in [n for n in arrays if n.startswith("s3_")]:
            del arrays[name]

    _rewrite_weights(model_copy, drop_stage_three)
    with pytest.raises(ModelError, match="stage-3 layers missing"):
        boilerclf.Classifier(model_copy)


def test_a_config_without_context_stages_is_refused(model_copy: Path) -> None:
    config = json.loads((model_copy / CONFIG_FILE).read_text())
    del config["context_stages"]
    (model_copy / CONFIG_FILE).write_text(json.dumps(config))
    with pytest.raises(ModelError, match="no context stages"):
        boilerclf.Classifier(model_copy)


def test_a_directory_that_is_not_a_model(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="not a boilerclf model"):
        boilerclf.load(tmp_path)


def test_environment_variable_chooses_the_default_model(model_copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BOILERCLF_MODEL", str(model_copy))
    assert boilerclf.Classifier().path == model_copy


def test_load_rereads_a_model_rewritten_in_place(model_copy: Path) -> None:
    first = boilerclf.load(model_copy)
    assert boilerclf.load(model_copy) is first
    config = json.loads((model_copy / CONFIG_FILE).read_text())
    config["thresholds"]["balanced"] = 0.99
    (model_copy / CONFIG_FILE).write_text(json.dumps(config))
    stat = (model_copy / CONFIG_FILE).stat()
    os.utime(model_copy / CONFIG_FILE, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    again = boilerclf.load(model_copy)
    assert again is not first and again.thresholds["balanced"] == 0.99
