"""The S3 object store (MinIO in production, nanio locally) through the `minio` SDK."""

from __future__ import annotations

import io
import traceback

from minio import Minio
from minio.error import S3Error

from credit_platform.settings import Settings


def client(s: Settings) -> Minio:
    return Minio(s.s3_endpoint, access_key=s.s3_access_key, secret_key=s.s3_secret_key,
                 secure=s.s3_secure, region=s.s3_region)


_MISSING = {"NoSuchKey", "NoSuchObject", "ResourceNotFound"}
# One PUT up to this size (the SDK's default splits anything over 5 MiB into multipart uploads, which costs
# a request per part and a server-side reassembly for every landed extract).
PART_SIZE = 64 << 20


def is_missing(err: S3Error) -> bool:
    """Whether the error says the object is not there. The SDK's error sits in a reference cycle with the
    frames that raised it, which would keep the callers' frames, and the batch bytes in them, alive until
    the next garbage collection: the frames are cleared once the answer is known."""
    missing = err.code in _MISSING
    if missing:
        traceback.clear_frames(err.__traceback__)
    return missing


def exists(c: Minio, bucket: str, key: str) -> bool:
    try:
        c.stat_object(bucket, key)
    except S3Error as err:
        if is_missing(err):
            return False
        raise
    return True


def get_if_exists(c: Minio, bucket: str, key: str) -> bytes | None:
    try:
        return get(c, bucket, key)
    except S3Error as err:
        if is_missing(err):
            return None
        raise


def put_once(c: Minio, bucket: str, key: str, data: bytes, content_type: str = "application/octet-stream") -> bool:
    """Write-once: returns False (and writes nothing) when the key already exists.

    Immutability of the raw zone is enforced here, not by object lock, because the local server does
    not implement retention; production adds object lock on the raw bucket as a second layer.
    """
    if exists(c, bucket, key):
        return False
    put(c, bucket, key, data, content_type)
    return True


def put(c: Minio, bucket: str, key: str, data: bytes, content_type: str = "application/octet-stream") -> None:
    c.put_object(bucket, key, io.BytesIO(data), len(data), content_type=content_type,
                 part_size=max(PART_SIZE, -(-len(data) // 10_000)))


def get(c: Minio, bucket: str, key: str) -> bytes:
    resp = c.get_object(bucket, key)
    try:
        return resp.read()
    finally:
        resp.close()
        resp.release_conn()
