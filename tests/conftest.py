"""Shared fixtures: the packaged model, and a copy of it whose thresholds can be changed."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

import boilerclf
from boilerclf.model import CONFIG_FILE, default_model_path

SHARED = Path(__file__).resolve().parents[2] / "shared"
SEED = SHARED / "seeds" / "000_278f7835bce4bd58.txt"
DEV = SHARED / "data" / "dev"


@pytest.fixture(scope="session")
def classifier() -> boilerclf.Classifier:
    return boilerclf.load()


@pytest.fixture(scope="session")
def keep_all_model(tmp_path_factory: pytest.TempPathFactory) -> boilerclf.Classifier:
    """The packaged model with every threshold at 0: it keeps every paragraph."""
    directory = tmp_path_factory.mktemp("keep-all")
    for name in ("model.json", "weights.npz"):
        shutil.copy(default_model_path() / name, directory / name)
    config = json.loads((directory / CONFIG_FILE).read_text())
    config["thresholds"] = {"precision": 0.0, "balanced": 0.0, "recall": 0.0}
    (directory / CONFIG_FILE).write_text(json.dumps(config))
    return boilerclf.Classifier(directory)


@pytest.fixture
def seed_text() -> bytes:
    if not SEED.is_file():
        pytest.skip(f"the user's example is read from {SEED}, which is absent (../shared not beside the clone)")
    return SEED.read_bytes()
