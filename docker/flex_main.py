"""Dataflow Flex Template entry point: the same build-corpus, launched from the template launcher."""

import sys

from webtext.cli import run

if __name__ == "__main__":
    sys.exit(run("build-corpus", sys.argv[1:]))
