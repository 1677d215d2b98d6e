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


class ZstdReader(io.RawIOBase):
    """A zstd stream (any number of frames) decompressed as it is read, in bounded memory, and an
    EOFError when the input ends inside a frame: zstandard's own stream_reader returns a cut-off
    dump's first half without a word.

    Compressed input goes in small pieces, so one read's output stays bounded even for a crafted
    frame of run-length blocks (zstd's worst ratio is ~32,000:1: 4 KiB in, at most ~128 MiB out)."""

    CHUNK = 1 << 12

    def __init__(self, raw, max_window_size: int):
        import zstandard

        self.raw = raw
        self._dctx = zstandard.ZstdDecompressor(max_window_size=max_window_size)
        self._dobj = self._dctx.decompressobj()
        self._in_frame = False  # input fed since the last frame ended
        self._out = memoryview(b"")

    def readable(self):
        return True

    def _refill(self) -> bool:
        """Decompress more input into self._out; False at a clean end of the input."""
        while not self._out:
            data = self.raw.read(self.CHUNK)
            if not data:
                if self._in_frame:
                    raise EOFError("the zstd stream ends inside a frame (a cut-off file?)")
                return False
            self._in_frame = True
            out = self._dobj.decompress(data)
            while self._dobj.eof:  # a frame ended; what follows it starts the next one
                rest = self._dobj.unused_data
                self._dobj = self._dctx.decompressobj()
                self._in_frame = bool(rest)
                if not rest:
                    break
                out += self._dobj.decompress(rest)
            self._out = memoryview(out)
        return True

    def readinto(self, buf) -> int:
        if not self._out and not self._refill():
            return 0
        n = min(len(buf), len(self._out))
        buf[:n] = self._out[:n]
        self._out = self._out[n:]
        return n

    def close(self):
        self.raw.close()
        super().close()
