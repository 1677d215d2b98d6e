"""webtext: an open, reproducible WebText.

The three stages live in their own folders and talk through files only:
``webtext.pipeline`` (Beam, build-corpus) -> Parquet shards -> ``webtext.tokenizer``
-> llm.c token shards -> ``webtext.train``.
"""

__version__ = "0.1.0"
