"""The funnel of a run, as a funnel: its stages in pipeline order, each with what came in, what went
on and the share kept, its drop reasons under it, every other counter of the stage (zeros too) and
damage highlighted.

It is read from a manifest alone (`counters` and `options.stages`), through the stage contract
(core/block.py: flow_in, flow_out, losses, errors, histograms), so a stage added to run/stages.py
shows up here with no code of its own; a counter no stage claims is shown under its prefix at the end.

    stages = funnel(manifest)          # [StageFunnel], the build-corpus summary and the report both use it
    print(render(stages, color=True))
"""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass, field

from webtext.pipeline.core.block import Block
from webtext.pipeline.run.stages import ALL_BLOCKS

_BY_NAME = {b.name: b for b in ALL_BLOCKS}


@dataclass
class Line:
    counter: str  # the full counter name, as in the manifest
    label: str  # the name under its stage: the counter without the stage's prefix (and "dropped.")
    value: int
    loss: bool  # a drop reason of the stage
    error: bool  # damaged input or failed work: highlighted when not 0


@dataclass
class StageFunnel:
    name: str
    n_in: int | None  # None: the stage has no single "in" (e.g. the join without links)
    n_out: int | None
    lines: list[Line] = field(default_factory=list)
    histograms: dict[str, list[tuple[str, int]]] = field(default_factory=dict)  # label -> [(bucket, count)]

    @property
    def kept(self) -> float | None:
        """The share of what came in that went on, or None when it cannot be said."""
        if self.n_in is None or self.n_out is None or self.n_in == 0:
            return None
        return self.n_out / self.n_in

    @property
    def losses(self) -> list[Line]:
        return [line for line in self.lines if line.loss]

    @property
    def has_errors(self) -> bool:
        return any(line.error and line.value for line in self.lines)


class _Unknown(Block):
    """A stage the manifest names but this version does not know (or a prefix no stage claims)."""


def _block_class(name: str) -> type[Block]:
    known = _BY_NAME.get(name)
    return known if known is not None else type(f"Unknown_{name}", (_Unknown,), {"name": name})


def _bucket_key(bucket: str):
    first = re.match(r"\d+", bucket)
    return (0, int(first.group()), bucket) if first else (1, 0, bucket)


def _stage(block: type[Block], cfg: dict, counters: dict[str, int], taken: set[str]) -> StageFunnel:
    prefix = block.prefix() + "."
    names = [n for n in block.funnel_counters(cfg) if n not in taken]
    names += [n for n in counters if n.startswith(prefix) and n not in taken and n not in names]
    taken.update(names)
    hist_prefixes = tuple(h + "." for h in block.histograms)
    histograms: dict[str, list[tuple[str, int]]] = {}
    plain = []
    for n in names:
        hist = next((h for h in hist_prefixes if n.startswith(h)), None)
        if hist is None:
            plain.append(n)
        else:
            histograms.setdefault(hist[len(prefix):-1], []).append((n[len(hist):], counters.get(n, 0)))
    for buckets in histograms.values():
        buckets.sort(key=lambda b: _bucket_key(b[0]))

    def is_loss(n: str) -> bool:
        return n in block.losses or n == prefix + "dropped" or n.startswith(prefix + "dropped.")

    loss_total = sum(counters.get(n, 0) for n in plain if is_loss(n))
    out_name = block.flow_out or (prefix + "kept" if prefix + "kept" in names else None)
    n_out = counters.get(out_name) if out_name else None
    if block.flow_in:
        n_in = counters.get(block.flow_in)
    else:
        n_in = None if n_out is None else n_out + loss_total
    if n_out is None and n_in is not None:
        n_out = n_in - loss_total
    shown = [n for n in plain if n not in (block.flow_in, out_name)]
    lines = []
    for n in shown:
        label = n[len(prefix):] if n.startswith(prefix) else n
        if is_loss(n) and label.startswith("dropped."):
            label = label[len("dropped."):]
        lines.append(Line(n, label, counters.get(n, 0), is_loss(n), n in block.errors or n.endswith(".errors")))
    lines.sort(key=lambda line: not line.loss)  # drop reasons first, then the stage's other counters
    return StageFunnel(block.name, n_in, n_out, lines, histograms)


def funnel(manifest: dict) -> list[StageFunnel]:
    """The funnel of a run: one StageFunnel per block of `options.stages`, in that order, then one per
    prefix of the counters no block claims."""
    counters = manifest.get("counters") or {}
    options = manifest.get("options") or {}
    config = options.get("config") or {}
    names = options.get("stages") or []
    taken: set[str] = set()
    stages = [_stage(_block_class(n), config.get(n, {}), counters, taken) for n in names]
    left = {}
    for n in counters:
        if n not in taken:
            left.setdefault(n.split(".", 1)[0], None)
    stages += [_stage(_block_class(p), {}, counters, taken) for p in left]
    return stages


_GATHER = 4  # zero drop reasons of a stage beyond this many are listed together
_RED, _BOLD, _RESET = "\033[31m", "\033[1m", "\033[0m"


def _pct(x: float | None) -> str:
    return "" if x is None else f"{100 * x:.1f}%"


def _num(x: int | None) -> str:
    return "-" if x is None else f"{x:,}"


def render(stages: list[StageFunnel], title: str = "funnel", color: bool = False) -> str:
    """The funnel as text: a row per stage (in, out, % kept), its drop reasons ("- reason") and other
    counters indented under it, damage marked "!" (in red with `color`)."""
    width = max([len(s.name) + 2 for s in stages] + [len(line.label) + 6 for s in stages for line in s.lines] + [24])
    out = [f"{title:<{width}}  {'in':>12}  {'out':>12}  {'kept':>6}"]
    for s in stages:
        name = f"{_BOLD}{s.name}{_RESET}" if color else s.name
        out.append(f"  {name}{' ' * (width - 2 - len(s.name))}  {_num(s.n_in):>12}  {_num(s.n_out):>12}  {_pct(s.kept):>6}")
        idle = [line for line in s.losses if not line.value]
        gather = len(idle) > _GATHER  # a stage with many rules (quality): its zeros on wrapped lines
        for line in s.lines:
            if gather and line in idle:
                continue
            mark = "!" if line.error and line.value else " "
            text = f"  {mark} {'- ' if line.loss else '  '}{line.label:<{width - 6}}  {line.value:>12,}"
            out.append(f"{_RED}{text}{_RESET}" if color and mark == "!" else text)
        if gather:
            out += textwrap.wrap(", ".join(line.label for line in idle), width=max(width + 30, 100),
                                 initial_indent="    - 0 each: ", subsequent_indent=" " * 14)
        for label, buckets in s.histograms.items():
            out.append(f"      {label}: " + ", ".join(f"{b} {v:,}" for b, v in buckets))
    return "\n".join(out)


def failed_inputs(stages: list[StageFunnel]) -> str | None:
    """One line when a stage's whole input failed: it read nothing but counted damage, or damage took all
    it read (every WARC not a WARC, every fetch failed, every page an extraction error); else None."""
    for s in stages:
        damage = [line for line in s.lines if line.error and line.value]
        total = sum(line.value for line in damage)
        if damage and (s.n_in == 0 or (s.n_in and not s.n_out and total >= s.n_in)):
            what = ", ".join(f"{line.counter} {line.value:,}" for line in damage)
            return f"every input of stage {s.name!r} failed ({what}; {s.n_out or 0} went on): see the warnings above"
    return None
