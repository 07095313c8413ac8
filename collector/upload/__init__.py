"""Delivery of a bundle to a support case: https:// PUT (one request for the whole bundle, or numbered parts on
request), sftp:// append with resume, tus 1.0 — through the environment's HTTPS proxy where one is set.

`upload_bundle()` verifies the bundle, picks the adapter from the URL scheme and keeps `<bundle>.upload.json`
so a re-run resumes; `upload_status()` reads that state back without touching the network.
"""

from __future__ import annotations

from .common import UploadResult
from .destination import check_secrets, parse_destination
from .parts import DEFAULT_PART_SIZE, MiB
from .run import upload_bundle
from .status import format_status, upload_status

__all__ = [
    "DEFAULT_PART_SIZE",
    "MiB",
    "UploadResult",
    "check_secrets",
    "format_status",
    "parse_destination",
    "upload_bundle",
    "upload_status",
]
