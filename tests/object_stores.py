"""Real object-storage servers on 127.0.0.1 for tests: S3 (moto in server mode) and GCS (the
gcp-storage-emulator), each counting the ranged GETs it serves, so a test can prove that index mode
reads each record with one request for exactly its bytes."""

from __future__ import annotations

import threading

BUCKET = "webtext-test"
S3_KEYS = ("testing-key", "testing-secret", "us-east-1")


class S3Server:
    """moto's S3 on a free port, behind a WSGI layer that records every GET's path and Range header."""

    def __init__(self):
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
        from werkzeug.serving import make_server

        moto = DomainDispatcherApplication(create_backend_app)
        self.gets: list[tuple[str, str | None]] = []
        self._lock = threading.Lock()

        def counting(environ, start_response):
            if environ["REQUEST_METHOD"] == "GET":
                with self._lock:
                    self.gets.append((environ.get("PATH_INFO", ""), environ.get("HTTP_RANGE")))
            return moto(environ, start_response)

        self._server = make_server("127.0.0.1", 0, counting, threaded=True, request_handler=MotoRequestHandler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self):
        self._thread.start()
        import boto3

        key, secret, region = S3_KEYS
        self.client = boto3.client("s3", endpoint_url=self.url, aws_access_key_id=key, aws_secret_access_key=secret, region_name=region)
        self.client.create_bucket(Bucket=BUCKET)
        return self

    def __exit__(self, *exc):
        self._server.shutdown()

    @property
    def beam_args(self) -> list[str]:
        key, secret, region = S3_KEYS
        return [f"--s3_endpoint_url={self.url}", f"--s3_access_key_id={key}", f"--s3_secret_access_key={secret}",
                f"--s3_region_name={region}"]

    def put(self, key: str, data: bytes) -> str:
        self.client.put_object(Bucket=BUCKET, Key=key, Body=data)
        return f"s3://{BUCKET}/{key}"

    def get(self, key: str) -> bytes:
        return self.client.get_object(Bucket=BUCKET, Key=key)["Body"].read()

    def keys(self, prefix: str = "") -> list[str]:
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix)
        return sorted(o["Key"] for page in pages for o in page.get("Contents", []))

    def ranged_gets(self, key_part: str) -> list[str]:
        """The closed ranges (bytes=a-b) asked for on objects whose path contains `key_part`."""
        return [r for path, r in self.gets if key_part in path and r and not r.endswith("-")]


class GcsServer:
    """gcp-storage-emulator on a free port (STORAGE_EMULATOR_HOST points Beam's GCS client at it),
    recording each media GET's path and Range header."""

    def __init__(self, monkeypatch):
        import socket

        from gcp_storage_emulator import server as emulator

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.gets: list[tuple[str, str | None]] = []
        real_get = emulator.RequestHandler.do_GET
        gets = self.gets

        def do_get(handler):
            gets.append((handler.path, handler.headers.get("Range")))
            return real_get(handler)

        monkeypatch.setattr(emulator.RequestHandler, "do_GET", do_get)
        monkeypatch.setenv("STORAGE_EMULATOR_HOST", f"http://127.0.0.1:{self.port}")
        self._server = emulator.create_server("127.0.0.1", self.port, in_memory=True, default_bucket=BUCKET)

    def __enter__(self):
        from google.cloud import storage

        self._server.start()
        self.client = storage.Client.create_anonymous_client()
        self.bucket = self.client.bucket(BUCKET)
        return self

    def __exit__(self, *exc):
        self._server.stop()

    beam_args = ["--project=webtext-test"]

    def put(self, key: str, data: bytes) -> str:
        self.bucket.blob(key).upload_from_string(data)
        return f"gs://{BUCKET}/{key}"

    def get(self, key: str) -> bytes:
        return self.bucket.blob(key).download_as_bytes()

    def keys(self, prefix: str = "") -> list[str]:
        return sorted(b.name for b in self.client.list_blobs(BUCKET, prefix=prefix))

    def ranged_gets(self, key_part: str) -> list[str]:
        from urllib.parse import unquote

        return [r for path, r in self.gets if key_part in unquote(path) and r and not r.endswith("-")]
