"""The urlfilter stage: a blocklist of hosts and domains, checked before extraction (off by default).

A page is dropped when its host, or any domain above it, is listed: "example.com" blocks
example.com, www.example.com and a.b.example.com, never notexample.com. Lists such as the UT1
blocklists (adult, gambling, malware, ...) are one domain a line and load as they are with
`hosts_file`. Counted in `urlfilter.dropped.blocked_host`.

Config [urlfilter]: enabled, hosts, hosts_file. It is also the worked example of docs/architecture.md
("how to add a filter").
"""

from __future__ import annotations

import os

from webtext.errors import UserError
from webtext.pipeline.core.block import Drop, Filter
from webtext.pipeline.io.lists import read_name_list


def read_host_list(path: str) -> list[str]:
    """Hosts or domains from a file: one a line, lower-cased; blank lines and '#' comments skipped."""
    return [line.rstrip(".") for line in read_name_list(path, "urlfilter.hosts_file")]


def parent_domains(host: str):
    """The host itself and every domain above it: a.b.example.com, b.example.com, example.com, com."""
    while host:
        yield host
        host = host.partition(".")[2]


class UrlFilter(Filter):
    name = "urlfilter"
    funnel = ("urlfilter.dropped.blocked_host",)

    @classmethod
    def validate(cls, cfg: dict) -> None:
        bad = [h for h in cfg["hosts"] if not isinstance(h, str) or not h.strip() or "/" in h or " " in h.strip()]
        if bad:
            raise UserError(f"config: urlfilter.hosts must be host or domain names, got {bad[0]!r}")
        if cfg["hosts_file"] and not os.path.isfile(cfg["hosts_file"]):
            raise UserError(f"urlfilter.hosts_file not found: {cfg['hosts_file']}")

    def __init__(self, cfg: dict):
        super().__init__(cfg)
        # Read here, on the machine that builds the pipeline: the list travels to the workers with
        # the filter, so a local file works on Dataflow too.
        hosts = [h.strip().lower().rstrip(".") for h in cfg["hosts"]]
        if cfg["hosts_file"]:
            hosts += read_host_list(cfg["hosts_file"])
        self.blocked = frozenset(hosts)

    def decide(self, doc: dict):
        if any(d in self.blocked for d in parent_domains(doc["host"] or "")):
            return Drop("blocked_host")
        return doc
