"""No change of behaviour: whole runs give the rows, shard names and counters recorded in tests/golden/.

The figures were recorded (tests/golden.py) before the stage-contract redesign; every later change
that alters them on purpose re-records them and says so in its commit.
"""

import json

import pytest
from golden import GOLDEN, NAMES, record


@pytest.mark.parametrize("name", NAMES)
def test_run_equals_the_recorded_figures(name, data_dir, tmp_path):
    expected = json.loads((GOLDEN / f"{name}.json").read_text())
    got = record(name, data_dir, tmp_path)
    assert got["counters"] == expected["counters"]
    assert got["shards"] == expected["shards"]
    assert got["dropped_shards"] == expected["dropped_shards"]


def test_multi_processing_equals_the_recorded_figures(data_dir, tmp_path):
    expected = json.loads((GOLDEN / "real.json").read_text())
    got = record("real", data_dir, tmp_path, ["--direct_running_mode=multi_processing", "--direct_num_workers=2"])
    assert got == expected
