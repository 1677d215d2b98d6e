"""The reddit stage: submissions with karma -> one record of link facts per canonical URL.

Input is Pushshift / Arctic Shift NDJSON, one submission per line. WebText's rule: outbound links
(not self posts) whose submission has score >= 3. GPT-2's content rules: submissions marked over_18
are not counted (reddit.nsfw; [reddit] nsfw = "keep" keeps them), nor those of a blocked subreddit
(reddit.blocked_subreddit). A URL submitted several times keeps, over its kept submissions only, the
max score, the set of subreddits and the number of submissions.
"""

from __future__ import annotations

import json
import logging
import os

import apache_beam as beam

from webtext.errors import UserError
from webtext.pipeline.core.block import Block
from webtext.pipeline.core.counters import Counters, counter
from webtext.pipeline.io.files import ReadEachFile, iter_lines, open_text_lines
from webtext.pipeline.io.lists import read_name_list
from webtext.pipeline.sources.urls import canonical_url

log = logging.getLogger(__name__)

INVALID, SELF, NSFW, BLOCKED, BELOW, KEPT = "invalid", "self", "nsfw", "blocked_subreddit", "below_karma", "kept"
_COUNTS = ("lines", INVALID, SELF, NSFW, BLOCKED, BELOW, KEPT, "errors")
NSFW_RULES = ("drop", "keep")


MAX_SCORE = 2**62  # Reddit's largest scores are ~10^6; beyond this a "score" is damage (and int64 overflows)


def _text(value: str) -> str:
    """A string as UTF-8 can carry it: lone surrogates (JSON's "\\ud800") become U+FFFD."""
    try:
        value.encode("utf-8")
        return value
    except UnicodeEncodeError:
        return value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def _score(value) -> int | None:
    """A score as dumps write it: an int, a float with no fraction (5.0), a string of digits ("5");
    None for anything else (a boolean, 9.5, "lots", infinity)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit() and len(value) < 20:
        return int(value)
    return None


def _flag(value) -> bool:
    """A dump's boolean as the eras write it: true, "true", 1, "1"."""
    return str(value).lower() in ("true", "1")


def subreddit_key(name: str) -> str:
    """A subreddit name as blocklists compare it: case-folded, without "r/" or "/r/"."""
    name = name.strip().casefold()
    for prefix in ("/r/", "r/"):
        if name.startswith(prefix):
            return name[len(prefix):]
    return name


def parse_submission(line: bytes | str | None, min_karma: int, *, drop_nsfw: bool = True, blocked: frozenset = frozenset()):
    """Classify one NDJSON line: (status, canonical URL, url, score, subreddit).

    status is KEPT, SELF, NSFW (over_18, with drop_nsfw), BLOCKED (its subreddit's subreddit_key is in
    `blocked`), BELOW (score under min_karma) or INVALID (not JSON, JSON nested too deep to parse, not
    an object, no http(s) URL, a score that is not a whole number or is absurd; None stands for a line
    too long to read). The content rules come before karma: reddit.nsfw counts every NSFW link.
    """
    if line is None:
        return INVALID, None, None, None, None
    try:
        sub = json.loads(line)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return INVALID, None, None, None, None
    if not isinstance(sub, dict):
        return INVALID, None, None, None, None
    if _flag(sub.get("is_self")):
        return SELF, None, None, None, None
    url, score = sub.get("url"), _score(sub.get("score"))
    canon = canonical_url(url) if isinstance(url, str) else None
    if canon is None or score is None or not -MAX_SCORE < score < MAX_SCORE:
        return INVALID, None, None, None, None
    subreddit = sub.get("subreddit")
    subreddit = _text(subreddit) if isinstance(subreddit, str) else None
    if drop_nsfw and _flag(sub.get("over_18")):
        return NSFW, canon, url, score, subreddit
    if blocked and subreddit is not None and subreddit_key(subreddit) in blocked:
        return BLOCKED, canon, url, score, subreddit
    if score < min_karma:
        return BELOW, canon, url, score, None
    return KEPT, canon, url, score, subreddit


class _ReadDump(beam.DoFn):
    """One dump file in, (canonical URL, (score, subreddit)) per kept submission out."""

    def __init__(self, min_karma: int, drop_nsfw: bool, blocked: frozenset):
        self.min_karma, self.drop_nsfw, self.blocked = min_karma, drop_nsfw, blocked
        self.counters = Counters("reddit", _COUNTS)

    def process(self, path: str):
        counts = dict.fromkeys(_COUNTS, 0)
        try:
            with open_text_lines(path) as stream:
                for line in iter_lines(stream):
                    if line is not None and not line.strip():
                        continue
                    counts["lines"] += 1
                    status, canon, _, score, subreddit = parse_submission(line, self.min_karma, drop_nsfw=self.drop_nsfw, blocked=self.blocked)
                    counts[status] += 1
                    if status == KEPT:
                        yield canon, (score, subreddit)
        except Exception as e:  # noqa: BLE001 - a dump corrupt mid-way keeps what was read; counted
            counts["errors"] += 1
            log.warning("%s: stopped reading after %d lines: %s", path, counts["lines"], e)
        finally:
            self.counters.add(counts)


class _MergeLinks(beam.CombineFn):
    """(score, subreddit) per submission -> {reddit_score, reddit_subreddits, reddit_submissions}."""

    def create_accumulator(self):
        return (-(2**62), frozenset(), 0)

    def add_input(self, acc, value):
        score, subreddit = value
        subs = acc[1] | {subreddit} if subreddit else acc[1]
        return (max(acc[0], score), subs, acc[2] + 1)

    def merge_accumulators(self, accs):
        best, subs, n = -(2**62), frozenset(), 0
        for s, ss, k in accs:
            best, subs, n = max(best, s), subs | ss, n + k
        return (best, subs, n)

    def extract_output(self, acc):
        return {"reddit_score": acc[0], "reddit_subreddits": sorted(acc[1]), "reddit_submissions": acc[2]}


class RedditLinks(Block):
    """Dump paths (already expanded) -> (canonical URL, link facts) for every link with enough karma.

    Config [reddit]: min_karma (WebText's 3), nsfw ("drop" | "keep"), exclude_subreddits and
    exclude_subreddits_file (read here, on the machine that builds the pipeline: the set travels to
    the workers with the reader, so a local file works on any runner)."""

    name = "reddit"
    funnel = ("reddit.lines", "reddit.invalid", "reddit.self", "reddit.below_karma", "reddit.nsfw", "reddit.blocked_subreddit",
              "reddit.kept", "reddit.errors", "reddit.urls")
    flow_in, flow_out = "reddit.lines", "reddit.kept"  # submissions; reddit.urls: the distinct links among them
    losses = ("reddit.invalid", "reddit.self", "reddit.below_karma", "reddit.nsfw", "reddit.blocked_subreddit")

    @classmethod
    def validate(cls, cfg: dict) -> None:
        if not 0 <= cfg["min_karma"] < MAX_SCORE:
            raise UserError(f"--min-karma (reddit.min_karma) must lie in [0, 2^62), got {cfg['min_karma']}")
        if cfg["nsfw"] not in NSFW_RULES:
            raise UserError(f"reddit.nsfw must be one of {', '.join(NSFW_RULES)}, got {cfg['nsfw']!r}")
        bad = [s for s in cfg["exclude_subreddits"] if not isinstance(s, str) or not subreddit_key(s) or " " in subreddit_key(s)]
        if bad:
            raise UserError(f"config: reddit.exclude_subreddits must be subreddit names, got {bad[0]!r}")
        if cfg["exclude_subreddits_file"] and not os.path.isfile(cfg["exclude_subreddits_file"]):
            raise UserError(f"--exclude-subreddits (reddit.exclude_subreddits_file) not found: {cfg['exclude_subreddits_file']}")

    def blocked(self) -> frozenset:
        names = list(self.cfg.get("exclude_subreddits", []))
        if self.cfg.get("exclude_subreddits_file"):
            names += read_name_list(self.cfg["exclude_subreddits_file"], "reddit.exclude_subreddits_file")
        return frozenset(subreddit_key(n) for n in names)

    def links(self, paths: list[str]) -> beam.PTransform:
        return _ReadLinks(paths, _ReadDump(self.cfg["min_karma"], self.cfg.get("nsfw", "drop") == "drop", self.blocked()))


class _ReadLinks(beam.PTransform):
    def __init__(self, paths: list[str], reader: beam.DoFn):
        super().__init__()
        self.paths, self.reader = sorted(paths), reader

    def expand(self, pbegin):
        return (
            pbegin
            | "ReadSubmissions" >> ReadEachFile(self.paths, self.reader)
            | "MergePerUrl" >> beam.CombinePerKey(_MergeLinks())
            | "CountUrls" >> beam.Map(_count_url)
        )


def _count_url(kv):
    counter("reddit.urls").inc()
    return kv
