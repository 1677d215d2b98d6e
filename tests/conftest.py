"""Shared test fixtures: where the real test data lives, and a few builders on top of it.

The data is ../shared/data next to the repository (see its README): real WARCs, real Pushshift
dumps, real pages with ground truth and the lid.176 model. Tests never download anything.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("WEBTEXT_TEST_DATA", REPO.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def data_dir() -> Path:
    if not DATA.is_dir():
        pytest.fail(f"test data not found at {DATA} (set WEBTEXT_TEST_DATA)")
    return DATA


@pytest.fixture(scope="session")
def real_warcs(data_dir) -> list[Path]:
    """Every real WARC file in the shared data (WET/WAT included: they must be read without harm)."""
    return sorted(data_dir.glob("warc/**/*.warc*"))
