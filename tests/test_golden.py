"""No change of behaviour: whole runs give the rows, shard names and counters recorded in tests/golden/.

The figures were recorded (tests/golden.py) before the stage-contract redesign; every later change
that alters them on purpose re-records them and says so in its commit.
"""

import json

import pytest
from golden import GOLDEN, NAMES, record

# The stage contract counts <stage>.kept for every filter; these two stages did not count it before.
ADDED_COUNTERS = {"wikipedia.kept", "dedup.kept"}


def _check(got: dict, expected: dict) -> None:
    counters = got["counters"]
    assert set(counters) - set(expected["counters"]) <= ADDED_COUNTERS
    assert {k: counters.get(k) for k in expected["counters"]} == expected["counters"]
    assert counters.get("wikipedia.kept", 0) == counters["extract.pages"]  # every page the filter keeps is extracted
    assert counters.get("dedup.kept") == counters["docs.written"]
    assert got["shards"] == expected["shards"]
    assert got["dropped_shards"] == expected["dropped_shards"]


@pytest.mark.parametrize("name", NAMES)
def test_run_equals_the_recorded_figures(name, data_dir, tmp_path):
    _check(record(name, data_dir, tmp_path), json.loads((GOLDEN / f"{name}.json").read_text()))


def test_multi_processing_equals_the_recorded_figures(data_dir, tmp_path):
    got = record("real", data_dir, tmp_path, ["--direct_running_mode=multi_processing", "--direct_num_workers=2"])
    _check(got, json.loads((GOLDEN / "real.json").read_text()))
