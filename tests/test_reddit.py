"""The Reddit stage on the real Pushshift dumps, checked against lsb/webtext's golden karma lists."""

import bz2
import collections
import gzip
import json
import lzma

import pytest
import zstandard
from apache_beam.metrics.metric import MetricsFilter
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from webtext.errors import UserError
from webtext.pipeline.core.counters import NAMESPACE
from webtext.pipeline.io.files import expand, open_text_lines, probe_readable
from webtext.pipeline.run.config import stage_config
from webtext.pipeline.sources.reddit import BELOW, BLOCKED, INVALID, KEPT, NSFW, SELF, RedditLinks, parse_submission
from webtext.pipeline.sources.urls import canonical_url

MONTHS = ("2005-06", "2005-07")


def _golden(data_dir, month):
    with gzip.open(data_dir / f"reddit/lsb-webtext/RS_v2_{month}.urk.json-00.gz") as f:
        return collections.Counter((d["u"], d["r"], d["k"]) for d in map(json.loads, f))


@pytest.mark.parametrize("month", MONTHS)
def test_kept_submissions_equal_golden_list(data_dir, month):
    kept, statuses = collections.Counter(), collections.Counter()
    with open_text_lines(str(data_dir / f"reddit/jcpeterson-openwebtext/RS_v2_{month}.xz")) as lines:
        for line in lines:
            status, _, url, score, subreddit = parse_submission(line, 3)
            statuses[status] += 1
            if status == KEPT:
                kept[(url, subreddit, score)] += 1
    assert kept == _golden(data_dir, month)
    assert statuses[INVALID] == 0 and statuses[SELF] == 0
    assert sum(statuses.values()) == {"2005-06": 103, "2005-07": 1079}[month]


def test_bad_lines_are_classified():
    assert parse_submission(b"{not json", 3)[0] == INVALID
    assert parse_submission(b"[1, 2]", 3)[0] == INVALID
    assert parse_submission(json.dumps({"score": 9}), 3)[0] == INVALID  # no URL
    assert parse_submission(json.dumps({"url": "ftp://x.org/", "score": 9}), 3)[0] == INVALID
    assert parse_submission(json.dumps({"url": "https://x.org/", "score": "9"}), 3)[:4] == (KEPT, "https://x.org/", "https://x.org/", 9)  # a digit string
    assert parse_submission(json.dumps({"url": "https://x.org/", "score": "lots"}), 3)[0] == INVALID
    assert parse_submission(json.dumps({"url": "https://x.org/", "score": 9.5}), 3)[0] == INVALID
    assert parse_submission(json.dumps({"url": "https://x.org/", "score": True}), 3)[0] == INVALID
    assert parse_submission(json.dumps({"url": "https://x.org/", "score": 9, "is_self": True}), 3)[0] == SELF
    assert parse_submission(json.dumps({"url": "https://x.org/", "score": 2}), 3)[0] == BELOW
    assert parse_submission(json.dumps({"url": "https://x.org/", "score": 3, "subreddit": "a"}), 3)[:4] == (KEPT, "https://x.org/", "https://x.org/", 3)


def _write(path, raw: bytes):
    name = path.name
    if name.endswith(".zst"):
        # Real Pushshift dumps use a 2 GiB window (zstd --long=31); the reader must accept it.
        # Streamed (no content size in the header), so the frame really declares the 2 GiB window.
        params = zstandard.ZstdCompressionParameters.from_level(3, window_log=31)
        writer = zstandard.ZstdCompressor(compression_params=params).compressobj()
        path.write_bytes(writer.compress(raw) + writer.flush())
    elif name.endswith(".xz"):
        path.write_bytes(lzma.compress(raw))
    elif name.endswith(".gz"):
        path.write_bytes(gzip.compress(raw))
    elif name.endswith(".bz2"):
        path.write_bytes(bz2.compress(raw))
    else:
        path.write_bytes(raw)


@pytest.mark.parametrize("suffix", [".zst", ".xz", ".gz", ".bz2", ".ndjson"])
def test_every_compression_reads_the_same(data_dir, tmp_path, suffix):
    raw = lzma.decompress((data_dir / "reddit/jcpeterson-openwebtext/RS_v2_2005-06.xz").read_bytes())
    path = tmp_path / f"RS_2005-06{suffix}"
    _write(path, raw)
    with open_text_lines(str(path)) as lines:
        assert b"".join(lines) == raw


def test_zstd_long_window_needs_the_large_limit(tmp_path):
    path = tmp_path / "RS.zst"
    _write(path, b'{"url": "https://x.org/", "score": 5}\n' * 100)
    with pytest.raises(zstandard.ZstdError):  # what a default reader does with a real dump
        zstandard.ZstdDecompressor().decompressobj().decompress(path.read_bytes())
    probe_readable(str(path), "Reddit dump")  # ours reads it


def test_unreadable_dump_and_missing_input_are_user_errors(tmp_path):
    bad = tmp_path / "RS_bad.zst"
    bad.write_bytes(b"this is not zstd at all" * 10)
    with pytest.raises(UserError, match="cannot read Reddit dump"):
        probe_readable(str(bad), "Reddit dump")
    with pytest.raises(UserError, match="no Reddit dump input matches"):
        expand([str(tmp_path / "nothing-*.zst")], "Reddit dump")


def test_links_grouped_by_canonical_url(data_dir, tmp_path):
    lines = [
        {"url": "https://Example.com/a#x", "score": 5, "subreddit": "news"},
        {"url": "https://example.com/a?utm_source=t", "score": 40, "subreddit": "science"},
        {"url": "https://example.com/a", "score": 1, "subreddit": "low"},  # below the bar: not counted
        {"url": "https://example.com/b", "score": 3, "subreddit": "news"},
        {"url": "https://example.com/c", "score": 2, "subreddit": "news"},
        {"url": "https://www.reddit.com/r/x/comments/1/", "score": 99, "subreddit": "x", "is_self": True},
    ]
    dump = tmp_path / "RS_t.zst"
    _write(dump, ("\n".join(map(json.dumps, lines)) + "\nnot json\n").encode())
    real = str(data_dir / "reddit/jcpeterson-openwebtext/RS_v2_2005-06.xz")
    golden = _golden(data_dir, "2005-06")
    expected_real = {}
    for url, sub, score in golden.elements():
        c = canonical_url(url)
        s, subs, n = expected_real.get(c, (0, set(), 0))
        expected_real[c] = (max(s, score), subs | {sub}, n + 1)
    expected = [(c, {"reddit_score": s, "reddit_subreddits": sorted(subs), "reddit_submissions": n}) for c, (s, subs, n) in expected_real.items()]
    expected += [
        ("https://example.com/a", {"reddit_score": 40, "reddit_subreddits": ["news", "science"], "reddit_submissions": 2}),
        ("https://example.com/b", {"reddit_score": 3, "reddit_subreddits": ["news"], "reddit_submissions": 1}),
    ]
    with TestPipeline(runner="FnApiRunner") as p:
        links = p | RedditLinks(stage_config("reddit", min_karma=3)).links([str(dump), real])
        assert_that(links, equal_to(expected))


def _real_lines(data_dir, month) -> list[dict]:
    with open_text_lines(str(data_dir / f"reddit/jcpeterson-openwebtext/RS_v2_{month}.xz")) as lines:
        return [json.loads(line) for line in lines]


def test_gpt2_content_rules_on_the_real_dumps(data_dir, tmp_path):
    """The real 2005 dumps have no over_18 submission (every line says false), so this fixture marks
    every 7th kept-karma line over_18 (as true, "true" or 1, the spellings of the eras), moves every 11th
    into a blocked subreddit, and adds an NSFW resubmission of a kept URL with a higher score: it must
    change nothing of that URL's link facts."""
    lines = _real_lines(data_dir, "2005-06") + _real_lines(data_dir, "2005-07")
    assert all(line["over_18"] is False for line in lines)
    eligible = [i for i, line in enumerate(lines) if line["score"] >= 3]
    nsfw = set(eligible[::7])
    blocked = set(eligible[3::11]) - nsfw
    for k, i in enumerate(sorted(nsfw)):
        lines[i]["over_18"] = (True, "true", 1)[k % 3]
    for i in blocked:
        lines[i]["subreddit"] = "Gonewild"
    survivor = next(i for i in eligible if i not in nsfw | blocked)
    resub = {**lines[survivor], "score": lines[survivor]["score"] + 1000, "over_18": True, "subreddit": "pics"}
    dump = tmp_path / "RS_nsfw.ndjson"
    dump.write_text("".join(json.dumps(line) + "\n" for line in lines + [resub]))
    blocklist = tmp_path / "blocked.txt"
    blocklist.write_text("# explicit\nr/GoneWild\n\nspam  # and more\n")

    expected = {}
    for i in eligible:
        if i in nsfw or i in blocked:
            continue
        c = canonical_url(lines[i]["url"])
        s, subs, n = expected.get(c, (0, set(), 0))
        expected[c] = (max(s, lines[i]["score"]), subs | {lines[i]["subreddit"]}, n + 1)
    cfg = stage_config("reddit", exclude_subreddits_file=str(blocklist))
    p = TestPipeline(runner="FnApiRunner")
    links = p | RedditLinks(cfg).links([str(dump)])
    assert_that(links, equal_to([(c, {"reddit_score": s, "reddit_subreddits": sorted(subs), "reddit_submissions": n})
                                 for c, (s, subs, n) in expected.items()]))
    result = p.run()
    result.wait_until_finish()
    counters = {c.key.metric.name: c.committed for c in result.metrics().query(MetricsFilter().with_namespace(NAMESPACE))["counters"]}
    assert counters["reddit.nsfw"] == len(nsfw) + 1 and counters["reddit.blocked_subreddit"] == len(blocked)
    assert counters["reddit.kept"] == len(eligible) - len(nsfw) - len(blocked) and counters["reddit.lines"] == len(lines) + 1

    keep = stage_config("reddit", nsfw="keep")  # --keep-nsfw: they count again, the blocklist is off
    assert parse_submission(json.dumps(lines[min(nsfw)]), 3, drop_nsfw=keep["nsfw"] == "drop")[0] == KEPT
    assert parse_submission(json.dumps(lines[min(nsfw)]), 3)[0] == NSFW
    assert parse_submission(json.dumps({**lines[survivor], "subreddit": "SPAM"}), 3, blocked=RedditLinks(cfg).blocked())[0] == BLOCKED
    with pytest.raises(UserError, match="reddit.nsfw"):
        stage_config("reddit", nsfw="maybe")
    with pytest.raises(UserError, match="not found"):
        stage_config("reddit", exclude_subreddits_file=str(tmp_path / "missing.txt"))


def test_content_rule_flags_write_the_reddit_section(tmp_path):
    from webtext.pipeline.run import config
    from webtext.pipeline.run.build_corpus import _overrides, _parser

    (tmp_path / "subs.txt").write_text("nsfw\n")
    args, _ = _parser().parse_known_args(["--keep-nsfw", "--exclude-subreddits", str(tmp_path / "subs.txt"), "--decontaminate", "a.jsonl"])
    assert _overrides(args, config.default_config()) == {
        "reddit": {"nsfw": "keep", "exclude_subreddits_file": str(tmp_path / "subs.txt")}, "decontam": {"eval": ["a.jsonl"]}}
    assert config.default_config()["reddit"]["nsfw"] == "drop"  # GPT-2's rule is the default
