"""A real S3-compatible server on 127.0.0.1 for the landing zone: moto's S3 in server mode.

``LocalS3Server`` starts ``moto.server.ThreadedMotoServer`` on a free port of 127.0.0.1 (a thread of
the test process that speaks the S3 HTTP API, so other processes such as Celery workers reach it
too), creates buckets and gives the environment the pipeline needs to use it: the standard AWS
variables that botocore (under s3fs/fsspec) reads when it builds a client, with fake credentials
and ``AWS_ENDPOINT_URL_S3`` pointing at the server. Nothing talks to real AWS: the endpoint is
local, instance metadata is off and no AWS config or credentials file is read::

    with LocalS3Server() as s3:
        s3.create_bucket("copilot-landing")
        env = s3.env()                       # for os.environ or a subprocess
        root = "s3://copilot-landing/landing"  # COPILOT_LANDING_PATH
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

ACCESS_KEY = "test"
SECRET_KEY = "test-secret-not-a-real-key"  # fake, but tests check it never shows in an error
REGION = "us-east-1"


@dataclass
class LocalS3Server:
    """moto's S3 server on 127.0.0.1 (a free port), stopped by :meth:`stop` or the ``with`` block."""

    host: str = "127.0.0.1"
    port: int = 0
    _server: Any = field(default=None, repr=False)

    @property
    def endpoint(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> LocalS3Server:
        from moto.server import ThreadedMotoServer

        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per request otherwise
        self._server = ThreadedMotoServer(ip_address=self.host, port=self.port, verbose=False)
        self._server.start()
        self.host, self.port = self._server.get_host_and_port()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None

    def __enter__(self) -> LocalS3Server:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def env(self, access_key: str = ACCESS_KEY, secret_key: str = SECRET_KEY) -> dict[str, str]:
        """The AWS variables that point botocore (and so s3fs) at this server only."""
        return {
            "AWS_ACCESS_KEY_ID": access_key,
            "AWS_SECRET_ACCESS_KEY": secret_key,
            "AWS_DEFAULT_REGION": REGION,
            "AWS_ENDPOINT_URL_S3": self.endpoint,
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        }

    def client(self) -> Any:
        """A boto3 S3 client for this server (to create buckets and look at objects)."""
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
            region_name=REGION,
        )

    def create_bucket(self, name: str) -> str:
        self.client().create_bucket(Bucket=name)
        return name

    def keys(self, bucket: str, prefix: str = "") -> list[str]:
        """Every object key under ``prefix`` in ``bucket``, sorted."""
        pages = self.client().get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        return sorted(obj["Key"] for page in pages for obj in page.get("Contents", []))


# Variables that would send botocore elsewhere (a profile, a session token, another endpoint).
_UNSET = ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_ENDPOINT_URL", "AWS_REGION")


@contextlib.contextmanager
def s3_environment(env: dict[str, str]) -> Iterator[None]:
    """Set ``env`` in ``os.environ`` for this process and forget cached S3 file systems around it.

    fsspec keeps one ``S3FileSystem`` per process with the client it built, so a change of
    endpoint or credentials takes effect only after its instance cache is cleared.
    """
    import s3fs

    saved = {k: os.environ.get(k) for k in (*env, *_UNSET)}
    for key in _UNSET:
        os.environ.pop(key, None)
    os.environ.update(env)
    s3fs.S3FileSystem.clear_instance_cache()
    try:
        yield
    finally:
        s3fs.S3FileSystem.clear_instance_cache()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
