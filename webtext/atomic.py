"""Atomic writes: a file appears under its final name complete, or not at all.

Every writer in webtext (corpus shards, manifests, tokenizer folders, token shards, checkpoints,
metrics, plots, models) goes through here: the bytes go to a hidden temporary file beside the final
one, `.{name}.tmp-{token}`, are flushed to disk, and the file is renamed into place. A crash at any
moment leaves the old file (or none) under the final name, plus at worst a temporary file, which the
next run of the same writer removes (`remove_stale_temps`).

Local paths use `os.replace` (atomic on POSIX) and fsync both the file and its folder, so the rename
survives a power cut too. Paths with a scheme (gs://, s3://, ...) go through Beam's FileSystems
(create, then rename), imported only for them: the training loop never pays for Beam.
"""

from __future__ import annotations

import contextlib
import fnmatch
import json
import os
import uuid
from typing import IO, Iterator

TMP_MARK = ".tmp-"


def _is_remote(path: str) -> bool:
    return "://" in path


def _split(path: str) -> tuple[str, str]:
    if _is_remote(path):
        directory, _, name = path.rpartition("/")
        return directory, name
    return os.path.split(path)


def temp_path(path: str | os.PathLike) -> str:
    """A fresh temporary name beside `path`, hidden, and recognisable by `is_temp_name`."""
    path = os.fspath(path)
    directory, name = _split(path)
    tmp_name = f".{name}{TMP_MARK}{os.getpid()}-{uuid.uuid4().hex[:12]}"
    return f"{directory}/{tmp_name}" if _is_remote(path) else os.path.join(directory, tmp_name)


def is_temp_name(name: str) -> bool:
    """True for a name that temp_path() made (a crashed writer's leftover when no writer runs)."""
    return name.startswith(".") and TMP_MARK in name


def _fsync_dir(directory: str) -> None:
    try:
        fd = os.open(directory or ".", os.O_RDONLY)
    except OSError:  # not every platform can open a folder
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


class AtomicFile:
    """A file being written under a temporary name: use it as a file, then commit() or abort().

    The folder is made if it does not exist. Local files are opened with `mode` ("wb", "w", "w+b": a writer that seeks back to fill in a
    header); remote ones only in binary write mode."""

    def __init__(self, path: str | os.PathLike, mode: str = "wb", *, fsync: bool = True, encoding: str | None = None):
        self.path, self.tmp, self.fsync = os.fspath(path), temp_path(path), fsync
        if _is_remote(self.path):
            if mode != "wb":
                raise ValueError(f"remote files are written in mode 'wb' only, not {mode!r}")
            from apache_beam.io.filesystems import FileSystems

            self.file: IO = FileSystems.create(self.tmp)
        else:
            if "b" not in mode and encoding is None:
                encoding = "utf-8"
            os.makedirs(os.path.dirname(self.tmp) or ".", exist_ok=True)  # as Beam's filesystems do
            self.file = open(self.tmp, mode, encoding=encoding)
        self.done = False

    def commit(self) -> str:
        """Make the written bytes the file at `path`; returns the path."""
        if _is_remote(self.path):
            from apache_beam.io.filesystems import FileSystems

            self.file.close()
            FileSystems.rename([self.tmp], [self.path])
        else:
            self.file.flush()
            if self.fsync:
                os.fsync(self.file.fileno())
            self.file.close()
            os.replace(self.tmp, self.path)
            if self.fsync:
                _fsync_dir(os.path.dirname(self.path))
        self.done = True
        return self.path

    def abort(self) -> None:
        """Throw the temporary file away (the final name is untouched)."""
        if self.done:
            return
        self.done = True
        with contextlib.suppress(Exception):
            self.file.close()
        with contextlib.suppress(Exception):
            if _is_remote(self.tmp):
                from apache_beam.io.filesystems import FileSystems

                FileSystems.delete([self.tmp])
            else:
                os.unlink(self.tmp)


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike, mode: str = "wb", *, fsync: bool = True) -> Iterator[IO]:
    """`with atomic_write(path) as f: f.write(...)`: renamed into place when the block ends normally,
    thrown away when it raises (or is interrupted)."""
    out = AtomicFile(path, mode, fsync=fsync)
    try:
        yield out.file
    except BaseException:
        out.abort()
        raise
    out.commit()


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, *, fsync: bool = True) -> Iterator[str]:
    """A temporary local path for libraries that write a file by name (fastText, matplotlib); renamed
    to `path` when the block ends normally, removed when it raises."""
    path = os.fspath(path)
    if _is_remote(path):
        raise ValueError(f"atomic_path is for local files, not {path}")
    tmp = temp_path(path)
    try:
        yield tmp
        if fsync:
            with open(tmp, "rb") as f:
                os.fsync(f.fileno())
        os.replace(tmp, path)
        if fsync:
            _fsync_dir(os.path.dirname(path))
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def write_bytes(path: str | os.PathLike, data: bytes, *, fsync: bool = True) -> str:
    with atomic_write(path, "wb", fsync=fsync) as f:
        f.write(data)
    return os.fspath(path)


def write_text(path: str | os.PathLike, text: str, *, fsync: bool = True) -> str:
    return write_bytes(path, text.encode("utf-8"), fsync=fsync)


def write_json(path: str | os.PathLike, obj, *, indent: int | None = 2, fsync: bool = True, **dumps) -> str:
    """`obj` as JSON (a trailing newline), atomically."""
    return write_text(path, json.dumps(obj, indent=indent, **dumps) + "\n", fsync=fsync)


def remove_stale_temps(directory: str | os.PathLike, name_glob: str = "*") -> list[str]:
    """Delete the temporary files that writers left in `directory` (of final names matching
    `name_glob`) when they were killed; returns what was removed. Call it when no writer is running
    there: before a run starts, or after it ended."""
    directory = os.fspath(directory)
    pattern = f".{name_glob}{TMP_MARK}*"
    if _is_remote(directory):
        from apache_beam.io.filesystems import FileSystems

        try:
            found = [m.path for m in FileSystems.match([f"{directory.rstrip('/')}/{pattern}"])[0].metadata_list]
        except Exception:  # noqa: BLE001 - a folder that does not exist yet has nothing stale
            return []
        if found:
            FileSystems.delete(found)
        return found
    if not os.path.isdir(directory):
        return []
    removed = []
    for name in os.listdir(directory):
        if is_temp_name(name) and fnmatch.fnmatchcase(name, pattern):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(os.path.join(directory, name))
                removed.append(os.path.join(directory, name))
    return removed
