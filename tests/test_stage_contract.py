"""The stage contract: filters through the one Beam adapter, the stage list driving graph, config,
--skip and manifest, the shipped urlfilter, atomic writes, and pure libraries without Beam."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import apache_beam as beam
import pytest
from apache_beam.metrics.metric import MetricsFilter
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to
from helpers import read_corpus, run_build_corpus

from webtext import atomic
from webtext.errors import UserError
from webtext.pipeline.core.block import Drop, Filter
from webtext.pipeline.core.counters import NAMESPACE
from webtext.pipeline.filters.urlfilter import UrlFilter, parent_domains
from webtext.pipeline.run import config, stages


class _Parity(Filter):
    """A toy filter for the adapter: drops odd numbers (reason "odd") and multiples of 5 (no reason)."""

    name = "parity"

    def __init__(self, batch_size: int = 1):
        super().__init__({})
        self.batch_size = batch_size

    def decide(self, doc):
        if doc["n"] % 5 == 0:
            return Drop()
        if doc["n"] % 2:
            return Drop("odd", doc={**doc, "seen": True})
        self.count("even")
        return {**doc, "half": doc["n"] // 2}


@pytest.mark.parametrize("batch_size", [1, 7])
def test_the_adapter_routes_marks_and_counts(batch_size):
    docs = [{"id": str(n), "n": n} for n in range(1, 41)]
    p = TestPipeline(runner="FnApiRunner")
    kept, dropped = p | beam.Create(docs) | _Parity(batch_size).transform()
    evens = [n for n in range(1, 41) if n % 2 == 0 and n % 5]
    assert_that(kept | "k" >> beam.Map(lambda d: (d["n"], d["half"])), equal_to([(n, n // 2) for n in evens]), label="kept")
    assert_that(
        dropped | "d" >> beam.Map(lambda d: (d["n"], d["drop_reason"], d.get("seen", False))),
        equal_to([(n, "parity" if n % 5 == 0 else "parity.odd", n % 5 != 0) for n in range(1, 41) if n % 5 == 0 or n % 2]),
        label="dropped",
    )
    result = p.run()
    result.wait_until_finish()
    counters = {c.key.metric.name: c.committed for c in result.metrics().query(MetricsFilter().with_namespace(NAMESPACE))["counters"]}
    assert counters == {"parity.kept": len(evens), "parity.even": len(evens), "parity.dropped": 8, "parity.dropped.odd": 16}


class _Splitter(Filter):
    """A toy filter with a side input: documents whose n is in the side input's set are split in two."""

    name = "splitter"

    def __init__(self, batch_size: int = 1):
        super().__init__({})
        self.batch_size, self.listed = batch_size, frozenset()

    def side_input(self):
        return beam.Create([3, 6, 9])

    def bind(self, side):
        self.listed = frozenset(side)

    def decide(self, doc):
        return [{**doc, "part": 0}, {**doc, "part": 1}] if doc["n"] in self.listed else doc


@pytest.mark.parametrize("batch_size", [1, 4])
def test_the_adapter_hands_a_side_input_to_bind_and_splits_documents(batch_size):
    p = TestPipeline(runner="FnApiRunner")
    kept, _ = p | beam.Create([{"n": n} for n in range(1, 11)]) | _Splitter(batch_size).transform()
    want = [(n, None) for n in range(1, 11) if n % 3] + [(n, k) for n in (3, 6, 9) for k in (0, 1)]
    assert_that(kept | beam.Map(lambda d: (d["n"], d.get("part"))), equal_to(want))
    result = p.run()
    result.wait_until_finish()
    counters = {c.key.metric.name: c.committed for c in result.metrics().query(MetricsFilter().with_namespace(NAMESPACE))["counters"]}
    assert counters == {"splitter.kept": 10}  # a split document is kept once


def test_a_filter_is_plain_python_without_beam():
    f = _Parity()
    assert f.decide({"n": 4}) == {"n": 4, "half": 2}
    assert f.decide({"n": 3}) == Drop("odd", doc={"n": 3, "seen": True})
    assert f.counts == {"even": 1}


def test_pure_libraries_do_not_import_beam():
    modules = ["webtext.pipeline.sources.urls", "webtext.pipeline.sources.http_response", "webtext.pipeline.dedup.minhash",
               "webtext.pipeline.core.block", "webtext.pipeline.filters.quality.rules", "webtext.pipeline.filters.urlfilter",
               "webtext.atomic", "webtext.corpus_layout", "webtext.cli_args", "webtext.pipeline.extract.worker",
               "webtext.pipeline.extract.settings", "webtext.pipeline.extract.evaluate",
               "webtext.pipeline.io.lists", "webtext.pipeline.filters.decontam.ngrams", "webtext.pipeline.filters.decontam.bloom"]
    code = "import sys\n" + "".join(f"import {m}\n" for m in modules) + "print('apache_beam' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_urlfilter_blocks_hosts_and_their_subdomains_only(tmp_path):
    listed = tmp_path / "blocked.txt"
    listed.write_text("# gambling\nCasino.example.\n\nads.example.org  # trackers\n")
    f = UrlFilter(config.stage_config("urlfilter", enabled=True, hosts=["example.com"], hosts_file=str(listed)))
    f.setup()
    verdict = {h: f.decide({"host": h}) for h in ("example.com", "www.example.com", "a.b.example.com", "notexample.com",
                                                   "casino.example", "www.ads.example.org", "example.org")}
    assert {h for h, v in verdict.items() if isinstance(v, Drop)} == {"example.com", "www.example.com", "a.b.example.com",
                                                                      "casino.example", "www.ads.example.org"}
    assert all(v == Drop("blocked_host") for v in verdict.values() if isinstance(v, Drop))
    assert list(parent_domains("a.b.c")) == ["a.b.c", "b.c", "c"]
    with pytest.raises(UserError, match="hosts_file not found"):
        config.stage_config("urlfilter", hosts_file=str(tmp_path / "missing.txt"))
    with pytest.raises(UserError, match="host or domain names"):
        config.stage_config("urlfilter", hosts=["http://x.org/"])


@pytest.mark.slow
def test_urlfilter_is_off_by_default_and_counts_what_it_drops_in_a_run(tmp_path):
    base = tmp_path / "base"
    assert run_build_corpus(["--out", str(base)]) == 0
    manifest, rows = read_corpus(base)
    assert "urlfilter" not in manifest["options"]["stages"] and not any(k.startswith("urlfilter.") for k in manifest["counters"])
    assert manifest["options"]["config"]["urlfilter"]["enabled"] is False

    toml = tmp_path / "block.toml"
    toml.write_text('[urlfilter]\nenabled = true\nhosts = ["riverside-gazette.example"]\n')
    out = tmp_path / "blocked"
    assert run_build_corpus(["--out", str(out), "--config", str(toml), "--keep-dropped"]) == 0
    m, kept = read_corpus(out)
    c = m["counters"]
    gazette = sum(r["host"].endswith("riverside-gazette.example") for r in rows)
    assert gazette >= 2 and not any(r["host"].endswith("riverside-gazette.example") for r in kept)
    assert c["urlfilter.dropped.blocked_host"] >= gazette and c["urlfilter.kept"] == c["extract.pages"]
    assert m["options"]["stages"].index("urlfilter") == m["options"]["stages"].index("wikipedia") + 1
    names = list(c)
    assert names.index("wikipedia.dropped") < names.index("urlfilter.dropped.blocked_host") < names.index("extract.empty")
    assert run_build_corpus(["--out", str(tmp_path / "s"), "--config", str(toml), "--skip", "urlfilter"]) == 0
    skipped = read_corpus(tmp_path / "s")[0]
    assert skipped["options"]["skip"] == ["urlfilter"] and "urlfilter" not in skipped["options"]["stages"]


@pytest.mark.slow
def test_a_new_stage_appears_in_graph_manifest_and_skip_from_one_entry(tmp_path, monkeypatch):
    class Shout(Filter):
        name = "shout"
        funnel = ("shout.dropped",)

        def decide(self, doc):
            return Drop() if "!" in doc["text"] else doc

    index = [s.name for s in stages.STAGES].index("lang")
    monkeypatch.setattr(stages, "STAGES", (*stages.STAGES[:index], Shout, *stages.STAGES[index:]))
    out = tmp_path / "shout"
    assert run_build_corpus(["--out", str(out), "--skip", "dedup"]) == 0
    m, _ = read_corpus(out)
    assert m["options"]["stages"][m["options"]["stages"].index("shout") + 1] == "lang"
    names = list(m["counters"])
    assert names.index("extract.docs") < names.index("shout.dropped") < names.index("lang.dropped")


def test_flags_write_their_sections_and_config_mistakes_are_one_line(tmp_path, capsys):
    from webtext.pipeline.run.build_corpus import _overrides, _parser

    args, _ = _parser().parse_known_args(["--min-karma", "5", "--langs", "en,de", "--skip", "dedup", "--quality-threshold", "0.3"])
    o = _overrides(args, config.default_config())
    assert o == {"reddit": {"min_karma": 5}, "lang": {"langs": ["en", "de"]}, "prelang": {"langs": ["en", "de"]}, "dedup": {"enabled": False},
                 "quality": {"classifier": {"keep_rule": "threshold", "threshold": 0.3}}}
    cfg = config.load_config(None, o)
    assert cfg["reddit"]["min_karma"] == 5 and cfg["lang"]["threshold"] == 0.65  # the rest stays the default
    toml = tmp_path / "c.toml"
    toml.write_text("[lang]\nthreshold = 0.9\n")
    assert config.load_config(toml, {"lang": {"threshold": 0.5}})["lang"]["threshold"] == 0.5  # flags win over the file
    for text, message in [("[lang]\nthreshold = 1.5\n", "lang.threshold"), ("[write]\ndocs_per_shard = 0\n", "docs-per-shard"),
                          ("[reddit]\nmin_karm = 3\n", "unknown key 'reddit.min_karm'"), ("[nosuch]\nx = 1\n", "unknown key 'nosuch'")]:
        toml.write_text(text)
        assert run_build_corpus(["--out", str(tmp_path / "o"), "--config", str(toml)]) == 2
        err = capsys.readouterr().err
        assert message in err and err.count("\n") == 1, err


def test_atomic_writes_leave_nothing_half_written(tmp_path):
    target = tmp_path / "sub" / "f.json"
    atomic.write_json(target, {"a": 1})
    assert json.loads(target.read_text()) == {"a": 1}
    with pytest.raises(RuntimeError):
        with atomic.atomic_write(target) as f:
            f.write(b"half")
            raise RuntimeError("killed")
    assert json.loads(target.read_text()) == {"a": 1}  # the old file, untouched
    assert os.listdir(target.parent) == ["f.json"]  # and no temp file left
    leftover = atomic.AtomicFile(tmp_path / "sub" / "g.bin")  # a writer that died without commit or abort
    leftover.file.write(b"x")
    leftover.file.close()
    assert any(atomic.is_temp_name(n) for n in os.listdir(target.parent))
    assert len(atomic.remove_stale_temps(target.parent)) == 1
    assert sorted(os.listdir(target.parent)) == ["f.json"]
