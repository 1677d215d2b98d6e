"""Runners beyond the default: Beam's portable job path in-process (what Flink, Spark and Dataflow
Runner v2 jobs go through), a runner that reports no counters, and the Dataflow job graph built
offline (translated to its job proto, every DoFn picklable without the main session)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from golden import GOLDEN, record
from test_golden import _check

from webtext.pipeline.run.config import load_config
from webtext.pipeline.run.graph import CorpusJob, Inputs, build


@pytest.mark.slow
def test_the_portable_job_path_gives_the_recorded_rows_and_manifest(data_dir, tmp_path):
    got = record("real", data_dir, tmp_path, ["--runner", "PortableRunner", "--job_endpoint", "embed", "--environment_type", "LOOPBACK"])
    _check(got, json.loads((GOLDEN / "real.json").read_text()))


@pytest.mark.slow
def test_a_runner_without_counters_still_writes_rows_and_an_honest_manifest(data_dir, tmp_path, monkeypatch):
    from apache_beam.runners.portability.fn_api_runner import fn_runner

    from helpers import read_corpus, run_build_corpus

    def no_metrics(self):
        raise NotImplementedError("collecting metrics will come later!")  # what DaskRunner says

    out = tmp_path / "first"
    assert run_build_corpus(["--out", str(out), "--skip", "lang,quality,dedup"]) == 0
    expected = read_corpus(out)[1]
    stale = out / "train-00003-of-00009.parquet"
    stale.write_bytes(b"an older run's shard")
    os.utime(stale, (1_000_000_000, 1_000_000_000))
    monkeypatch.setattr(fn_runner.RunnerResult, "metrics", no_metrics)
    assert run_build_corpus(["--out", str(out), "--skip", "lang,quality,dedup"]) == 0
    manifest, rows = read_corpus(out)
    assert manifest["counters_available"] is False and manifest["counters"] == {}
    assert rows == expected and manifest["documents"] == len(rows)
    assert not (out / "train-00003-of-00009.parquet").exists()  # older than the run: removed


DATAFLOW = ["--runner=DataflowRunner", "--project=webtext-offline", "--region=us-central1", "--job_name=webtext-dry-run",
            "--temp_location=gs://webtext-offline/tmp", "--staging_location=gs://webtext-offline/staging", "--no_auth",
            "--dry_run=True", "--sdk_location=container", "--experiments=use_runner_v2",
            "--sdk_container_image=example.com/webtext-worker:test"]

_UNPICKLE = """
import sys
from apache_beam.internal import pickler
from apache_beam.portability.api import beam_runner_api_pb2
proto = beam_runner_api_pb2.Pipeline.FromString(open(sys.argv[1], "rb").read())
n = 0
for t in proto.components.transforms.values():
    if t.spec.urn == "beam:transform:pardo:v1":
        payload = beam_runner_api_pb2.ParDoPayload.FromString(t.spec.payload)
        if payload.do_fn.urn == "beam:dofn:pickled_python_info:v1" and payload.do_fn.payload:
            fn = pickler.loads(payload.do_fn.payload)
            n += 1
print(n)
"""


@pytest.mark.slow
def test_the_dataflow_job_graph_is_built_offline_and_every_dofn_unpickles_without_main(data_dir, tmp_path):
    import apache_beam as beam
    from apache_beam.options.pipeline_options import PipelineOptions, SetupOptions

    warcs = sorted(str(p) for p in data_dir.glob("warc/**/*.warc.gz"))
    options = PipelineOptions(DATAFLOW)
    assert not options.view_as(SetupOptions).save_main_session
    dumps = [str(data_dir / "reddit/jcpeterson-openwebtext/RS_v2_2005-07.xz")]
    for name, inputs in (("scan", Inputs(warcs, dumps)), ("no-links", Inputs(warcs, [])),
                         ("index", Inputs([], dumps, [str(data_dir / "warc/pywb/iana.cdxj")], str(data_dir / "warc/pywb")))):
        p = beam.Pipeline(options=options)
        config = load_config(overrides={"write": {"keep_dropped": True}})
        build(p, CorpusJob(inputs, f"gs://webtext-offline/{name}", config))
        result = p.run()  # --dry_run: translated, checked and not submitted
        job = result.job.proto
        assert job.name == "webtext-dry-run" and result.job.proto_pipeline.components.transforms
        pipeline = tmp_path / f"{name}.pb"
        pipeline.write_bytes(result.job.proto_pipeline.SerializeToString())
        done = subprocess.run([sys.executable, "-c", _UNPICKLE, str(pipeline)], capture_output=True, text=True, cwd=tmp_path)
        assert done.returncode == 0, done.stderr[-2000:]
        assert int(done.stdout.split()[-1]) >= 15, name  # every DoFn of the graph, in a process without the tests


def _only_in_the_tests(x):
    return x


@pytest.mark.slow
def test_the_unpickling_check_catches_a_dofn_that_needs_the_tests(tmp_path):
    """The check above can fail: a step whose function lives in a test module does not unpickle alone."""
    import apache_beam as beam
    from apache_beam.options.pipeline_options import PipelineOptions

    p = beam.Pipeline(options=PipelineOptions(DATAFLOW))
    p | beam.Create([1]) | beam.Map(_only_in_the_tests)
    result = p.run()
    path = tmp_path / "p.pb"
    path.write_bytes(result.job.proto_pipeline.SerializeToString())
    done = subprocess.run([sys.executable, "-c", _UNPICKLE, str(path)], capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode != 0 and "test_runners" in done.stderr
