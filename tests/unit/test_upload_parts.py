"""Parts planning, the streaming part reader, the parts manifest, the upload state file and URL checks.

Everything is compared by SHA-256 against the source bytes.
"""

from __future__ import annotations

import fcntl
import hashlib
import io
import json
import os
from pathlib import Path

import pytest

from collector.errors import BundleError, UploadError, UsageError
from collector.secrets import Secret
from collector.upload import upload_bundle, upload_status
from collector.upload.common import strip_credentials
from collector.upload.parts import PartReader, PartsPlan, manifest_bytes, part_name, plan_parts, reassemble
from collector.upload.state import DestState, load_state, new_state, save_state, state_path
from tests.helpers.bundles import make_bundle

KiB = 1024


@pytest.fixture
def bundle(tmp_path: Path) -> Path:
    p = tmp_path / "b.tar.gz"
    p.write_bytes(os.urandom(1000 * KiB + 17))
    return p


def test_plan_cuts_and_hashes(bundle: Path) -> None:
    data = bundle.read_bytes()
    plan = plan_parts(bundle, 256 * KiB)
    assert [p.size for p in plan.parts] == [256 * KiB] * 3 + [232 * KiB + 17]
    assert [p.name for p in plan.parts] == [f"b.tar.gz.part000{i}" for i in range(1, 5)]
    for p in plan.parts:
        assert hashlib.sha256(data[p.offset : p.offset + p.size]).hexdigest() == p.sha256
    assert plan.bundle_sha256 == hashlib.sha256(data).hexdigest() and not plan.single
    assert PartsPlan.from_json(json.loads(json.dumps(plan.to_json()))) == plan


def test_single_part_keeps_bundle_name(bundle: Path) -> None:
    plan = plan_parts(bundle, 4096 * KiB)
    assert plan.single and plan.parts[0].name == "b.tar.gz" and plan.parts[0].size == bundle.stat().st_size


def test_exact_multiple_and_empty(tmp_path: Path) -> None:
    p = tmp_path / "x"
    p.write_bytes(b"a" * 2048)
    assert [q.size for q in plan_parts(p, 1024).parts] == [1024, 1024]
    p.write_bytes(b"")
    plan = plan_parts(p, 1024)
    assert plan.single and plan.parts[0].size == 0
    assert plan.bundle_sha256 == hashlib.sha256(b"").hexdigest()


def test_part_name_width_grows() -> None:
    assert part_name("b", 7, 12) == "b.part0007"
    assert part_name("b", 7, 12345) == "b.part00007"


def test_reader_streams_exact_slice(bundle: Path) -> None:
    data = bundle.read_bytes()
    plan = plan_parts(bundle, 300 * KiB)
    seen: list[int] = []
    for p in plan.parts:
        with PartReader(bundle, p.offset, p.size, block=7 * KiB, on_read=seen.append) as r:
            assert len(r) == p.size
            got = b"".join(r)
            assert got == data[p.offset : p.offset + p.size]
            assert r.hexdigest() == p.sha256 and r.sent == p.size
            assert r.read(10) == b""
    assert sum(seen) == len(data) and max(seen) <= 7 * KiB


def test_manifest_and_reassembly(bundle: Path, tmp_path: Path) -> None:
    plan = plan_parts(bundle, 200 * KiB)
    doc = json.loads(manifest_bytes(plan))
    assert doc["bundle"]["sha256"] == plan.bundle_sha256
    assert [p["name"] for p in doc["parts"]] == [p.name for p in plan.parts]
    assert "cat b.tar.gz.part* > b.tar.gz" in doc["reassemble"]["posix"]
    files = []
    for p in plan.parts:
        f = tmp_path / p.name
        with PartReader(bundle, p.offset, p.size) as r:
            f.write_bytes(r.read())
        files.append(f)
    out = io.BytesIO()
    assert reassemble(sorted(files), out) == plan.bundle_sha256
    assert out.getvalue() == bundle.read_bytes()


def test_state_roundtrip_is_private_and_atomic(bundle: Path) -> None:
    st = new_state(bundle)
    dest = DestState(url="https://h/home/", scheme="https", case="123", part_size=256 * KiB)
    dest.plan = plan_parts(bundle, 256 * KiB).to_json()
    dest.confirmed["b.tar.gz.part0001"] = {"size": 1, "sha256": "x", "status": 201}
    st.destinations[dest.url] = dest
    save_state(bundle, st)
    path = state_path(bundle)
    assert path.name == "b.tar.gz.upload.json" and path.stat().st_mode & 0o777 == 0o600
    assert [p.name for p in path.parent.iterdir() if p.name.endswith(".tmp")] == []
    back = load_state(bundle)
    assert back is not None and back.to_json() == st.to_json()
    status = upload_status(bundle)
    assert status["destinations"][0]["parts_total"] == 4


def test_corrupt_state_is_a_clear_error(bundle: Path) -> None:
    state_path(bundle).write_text("{not json")
    with pytest.raises(UploadError) as ei:
        load_state(bundle)
    assert "aside" in ei.value.hint


def test_strip_credentials() -> None:
    assert strip_credentials("sftp://u:pw@h:2222/p/") == "sftp://h:2222/p/"
    assert strip_credentials("https://h/home/") == "https://h/home/"


@pytest.mark.parametrize(
    ("to", "case", "words"),
    [
        ("http://h/home/", "123", "in clear"),
        ("https://123:s3cr3t@h/home/", "123", "carries a password"),
        ("ftp://h/", "123", "unsupported"),
        ("https://h/home/", "12 3; rm", "not valid"),
        ("https://123:s3cr3t/home/", "123", "not valid"),
    ],
)
def test_bad_arguments_refused_before_any_io(bundle: Path, to: str, case: str, words: str) -> None:
    with pytest.raises(UsageError) as ei:
        upload_bundle(bundle, to=to, case=case, token=Secret("tok"), progress=False)
    assert ei.value.exit_code == 2
    assert words in ei.value.message and "s3cr3t" not in f"{ei.value.message} {ei.value.hint}"
    assert not state_path(bundle).exists()


def test_one_upload_per_bundle_at_a_time(tmp_path: Path) -> None:
    real = make_bundle(tmp_path / "src", 10 * KiB, 1)
    fd = os.open(real, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        with pytest.raises(UploadError) as ei:
            upload_bundle(real, to="https://127.0.0.1:9/home/", case="123", token=Secret("tok"), progress=False)
        assert "another upload" in ei.value.message
    finally:
        os.close(fd)


def test_a_bundle_that_fails_verification_is_never_sent(tmp_path: Path) -> None:
    """collector upload verifies first (exit 21): a flipped byte, or a missing .sha256, stops it before any I/O."""
    real = make_bundle(tmp_path / "src", 10 * KiB, 1)
    unsent = "https://127.0.0.1:9/home/"  # nothing listens: reaching the network would fail differently
    sha = real.with_name(real.name + ".sha256")
    sha_text = sha.read_text()
    sha.unlink()
    with pytest.raises(BundleError) as ei:
        upload_bundle(real, to=unsent, case="123", token=Secret("tok"), progress=False)
    assert ei.value.exit_code == 21 and "fails verification" in ei.value.message
    sha.write_text(sha_text)
    data = bytearray(real.read_bytes())
    data[len(data) // 2] ^= 0x01
    real.write_bytes(bytes(data))
    with pytest.raises(BundleError) as ei:
        upload_bundle(real, to=unsent, case="123", token=Secret("tok"), progress=False)
    assert ei.value.exit_code == 21 and "collector verify" in ei.value.hint
    assert not state_path(real).exists()
