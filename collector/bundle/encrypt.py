"""Optional encryption of a finished bundle to age recipients (`age1...` public keys) through pyrage.

Writes `<bundle>.age` and its own `.sha256`; the plain bundle stays beside it (as sos keeps it).
"""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import BundleError
from ..store.hashing import sha256_file
from .checksum import write_sha256_file


def encrypt_file(path: Path, recipients: list[str]) -> tuple[Path, str]:
    """Encrypt `path` to every recipient; returns (encrypted path, its SHA-256)."""
    import pyrage
    from pyrage import x25519

    keys = []
    for r in recipients:
        try:
            keys.append(x25519.Recipient.from_str(r.strip()))
        except Exception as exc:  # pyrage raises its own RecipientError types
            raise BundleError(f"not an age public key: {r[:12]}...",
                              hint="give recipients as age1... (see `age-keygen -y`)") from exc
    out = path.with_name(path.name + ".age")
    tmp = out.with_name(f".{out.name}.partial")
    try:
        with path.open("rb") as src, tmp.open("wb") as dst:
            pyrage.encrypt_io(src, dst, keys)
            dst.flush()
            os.fsync(dst.fileno())
        os.replace(tmp, out)
    except Exception as exc:
        tmp.unlink(missing_ok=True)
        raise BundleError(f"encryption of {path.name} failed: {exc}",
                          hint="the plain bundle is kept; retry or send it without --encrypt-to") from exc
    digest = sha256_file(out)
    write_sha256_file(out, digest)
    return out, digest
