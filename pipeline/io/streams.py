"""Read-only binary streams that WARC readers and HTTP ranges hand to fastwarc and gzip."""

from __future__ import annotations

import io


class SeekableReader(io.RawIOBase):
    """A raw stream that reads and seeks, never writes; subclasses implement read/readinto, seek, tell."""

    def readable(self):
        return True

    def seekable(self):
        return True


class CountingReader(SeekableReader):
    """A read-only stream that counts the bytes it hands out (for `warc.bytes_read`)."""

    def __init__(self, raw):
        self.raw, self.bytes_read = raw, 0

    def seek(self, pos, whence=0):
        return self.raw.seek(pos, whence)

    def tell(self):
        return self.raw.tell()

    def read(self, n=-1):
        data = self.raw.read(n)
        self.bytes_read += len(data)
        return data

    def readinto(self, buf):
        data = self.read(len(buf))
        buf[: len(data)] = data
        return len(data)

    def close(self):
        self.raw.close()
        super().close()
