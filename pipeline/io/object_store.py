"""Object stores (s3://, gs://) and http(s):// as inputs and outputs: the extra each needs, and exact
byte-range reads.

Beam reads s3:// with its AWS extra (boto3) and gs:// with its GCP extra (google-cloud-storage);
`check_schemes` says which one is missing before any work starts. Index mode fetches each record by
one ranged GET of exactly its bytes: Beam's own readers would ask for the whole rest of the object
(S3) or a 16 MiB buffer (GCS) instead, so the clients Beam configured (endpoint, keys, region from
--s3_* options; the GCS credentials, or STORAGE_EMULATOR_HOST) are used directly.
"""

from __future__ import annotations

import importlib.util

from apache_beam.io.filesystems import FileSystems

from webtext.errors import UserError
from webtext.pipeline.io import http_filesystem

# scheme -> (a module its Beam filesystem needs, the webtext extra that installs it)
EXTRAS = {"s3": ("boto3", "aws"), "gs": ("google.cloud.storage", "gcp")}


def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:  # a missing parent package (google)
        return False


def check_schemes(paths, what: str = "path") -> None:
    """One clear line when a path's scheme needs an extra that is not installed."""
    for path in paths:
        scheme = path.split("://", 1)[0] if isinstance(path, str) and "://" in path else None
        if scheme in EXTRAS and not _installed(EXTRAS[scheme][0]):
            raise UserError(f"{path}: {scheme}:// needs Beam's {EXTRAS[scheme][1].upper()} support: "
                            f"pip install 'webtext[{EXTRAS[scheme][1]}]'")


def _bucket_key(path: str) -> tuple[str, str]:
    bucket, _, key = path.split("://", 1)[1].partition("/")
    return bucket, key


_S3_CLIENTS: dict = {}


def _s3_client(path: str):
    """The boto3 client Beam builds from the --s3_* options (its S3IO keeps it as client.client), made
    once per worker and options: making one costs ~0.2 s, longer than most record reads."""
    from apache_beam.io.aws import s3io
    from apache_beam.options.pipeline_options import S3Options

    options = FileSystems.get_filesystem(path)._options
    o = options.view_as(S3Options)
    key = (o.s3_endpoint_url, o.s3_access_key_id, o.s3_region_name, o.s3_verify, o.s3_disable_ssl)
    if key not in _S3_CLIENTS:
        _S3_CLIENTS[key] = s3io.S3IO(options=options).client.client
    return _S3_CLIENTS[key]


def _s3_range(path: str, start: int, end: int) -> bytes:
    boto = _s3_client(path)
    bucket, key = _bucket_key(path)
    return boto.get_object(Bucket=bucket, Key=key, Range=f"bytes={start}-{end - 1}")["Body"].read()


def _gcs_range(path: str, start: int, end: int) -> bytes:
    fs = FileSystems.get_filesystem(path)
    bucket, key = _bucket_key(path)
    blob = fs._gcsIO().client.bucket(bucket).blob(key)  # Beam's storage client: its credentials, its endpoint
    return blob.download_as_bytes(start=start, end=end - 1, raw_download=True)


def read_range(path: str, offset: int, length: int) -> bytes:
    """Exactly `length` bytes of `path` at `offset`, by one ranged request where the store has them."""
    if path.startswith(("http://", "https://")):
        return http_filesystem.read_range(path, offset, length)
    if path.startswith("s3://"):
        data = _s3_range(path, offset, offset + length)
    elif path.startswith("gs://"):
        data = _gcs_range(path, offset, offset + length)
    else:
        with FileSystems.open(path, compression_type="uncompressed") as f:
            f.seek(offset)
            data = f.read(length)
    if len(data) != length:
        raise ValueError(f"wanted {length} bytes at {offset}, the object has {len(data)} there")
    return data
