"""sftp:// upload against a real OpenSSH sshd: host key policy, refused login, and resume from the remote size.

The fault proxy cuts the SSH stream at random points; the next attempt continues from the remote file's size
and the file on the server matches the bundle's SHA-256.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import random
import shutil
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from collector.errors import ChangedHostKey, UnknownHostKey, UploadError, UsageError
from collector.secrets import Secret
from collector.upload import upload_bundle, upload_status
from collector.upload.common import UploadResult
from collector.upload.state import state_path
from tests.helpers.bundles import link_bundle, make_bundle
from tests.servers.fault_proxy import FaultProxy
from tests.servers.ports import free_port
from tests.servers.sshd import SshdServer, keygen, sshd  # noqa: F401  (fixture)

pytestmark = pytest.mark.servers

MiB = 1024 * 1024
PAYLOAD = 3 * MiB + 4321
SEED = int(os.environ.get("COLLECTOR_TEST_SEED", "20261127"))


@pytest.fixture(scope="module")
def bundle_src(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_bundle(tmp_path_factory.mktemp("bundle-src"), PAYLOAD, SEED)


@pytest.fixture
def bundle(bundle_src: Path, tmp_path: Path) -> Path:
    return link_bundle(bundle_src, tmp_path / "b")


def _size(p: Path) -> int:
    return p.stat().st_size


@pytest.fixture
def remote_dir(sshd: SshdServer) -> Iterator[Path]:  # noqa: F811
    d = Path(sshd.account.home) / f"uploads-{uuid.uuid4().hex[:8]}"
    try:
        yield d
    finally:
        shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def proxy(sshd: SshdServer) -> Iterator[FaultProxy]:  # noqa: F811
    p = FaultProxy("127.0.0.1", sshd.port).start()
    try:
        yield p
    finally:
        p.stop()


def _known_hosts(tmp_path: Path, sshd: SshdServer, port: int | None = None) -> Path:  # noqa: F811
    kh = tmp_path / "known_hosts"
    line = sshd.known_hosts_line
    if port is not None:
        line = line.replace(f"[127.0.0.1]:{sshd.port}", f"[127.0.0.1]:{port}")
    kh.write_text(line)
    return kh


def _sha(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


def _up(bundle: Path, sshd: SshdServer, remote_dir: Path, port: int, kh: Path, **kw: object) -> UploadResult:  # noqa: F811
    args: dict[str, object] = {
        "to": f"sftp://{sshd.account.name}@127.0.0.1:{port}{remote_dir}/",
        "case": "694201337",
        "password": Secret(sshd.account.password),
        "known_hosts": kh,
        "progress": False,
        "backoff": 0.01,
        "timeout": 10.0,
    }
    args.update(kw)
    return upload_bundle(bundle, **args)  # type: ignore[arg-type]


def test_sftp_upload_and_verify(
    sshd: SshdServer,  # noqa: F811
    bundle: Path,
    remote_dir: Path,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="paramiko")
    plog = logging.getLogger("paramiko")
    plog.addHandler(caplog.handler)  # even if something else turned its propagation off
    kh = _known_hosts(tmp_path, sshd)
    try:
        res = _up(bundle, sshd, remote_dir, sshd.port, kh)
    finally:
        plog.removeHandler(caplog.handler)
    size = _size(bundle)
    assert res.complete and res.bytes_sent == size and res.bytes_resent == 0 and res.bytes_accepted == size
    assert res.mode == "sftp append" and res.proxy == ""
    assert _sha(remote_dir / bundle.name) == _sha(bundle)
    again = _up(bundle, sshd, remote_dir, sshd.port, kh)
    assert again.complete and again.bytes_sent == 0
    assert upload_status(bundle)["destinations"][0]["bytes_done"] == size
    assert sshd.account.password not in state_path(bundle).read_text()
    assert "paramiko" in caplog.text and sshd.account.password not in caplog.text


def test_host_key_policy(sshd: SshdServer, bundle: Path, remote_dir: Path, tmp_path: Path) -> None:  # noqa: F811
    kh = tmp_path / "known_hosts"
    kh.write_text("")
    with pytest.raises(UnknownHostKey):
        _up(bundle, sshd, remote_dir, sshd.port, kh)
    assert not remote_dir.exists()
    other = keygen(tmp_path / "other_key")
    kh.write_text(f"[127.0.0.1]:{sshd.port} {other.get_name()} {other.get_base64()}\n")
    with pytest.raises(ChangedHostKey):
        _up(bundle, sshd, remote_dir, sshd.port, kh, accept_new_host_key=True)  # a changed key: always refused
    kh.write_text("")
    res = _up(bundle, sshd, remote_dir, sshd.port, kh, accept_new_host_key=True)
    assert res.complete and sshd.host_key.get_base64() in kh.read_text()


def test_wrong_password_is_not_retried(sshd: SshdServer, bundle: Path, remote_dir: Path, tmp_path: Path) -> None:  # noqa: F811
    kh = _known_hosts(tmp_path, sshd)
    before = sshd.count(rf"Failed password for {sshd.account.name}")
    t0 = time.monotonic()
    with pytest.raises(UploadError) as ei:
        _up(bundle, sshd, remote_dir, sshd.port, kh, password=Secret("wrong-pw-123"), retries=5, backoff=1.0)
    assert "refused the login" in ei.value.message and "wrong-pw-123" not in ei.value.message
    assert time.monotonic() - t0 < 8
    sshd.wait_log(rf"Failed password for {sshd.account.name}")
    assert sshd.count(rf"Failed password for {sshd.account.name}") - before == 1


def test_resume_from_remote_size_after_cut(
    sshd: SshdServer,  # noqa: F811
    proxy: FaultProxy,
    bundle: Path,
    remote_dir: Path,
    tmp_path: Path,
) -> None:
    kh = _known_hosts(tmp_path, sshd, proxy.port)
    size = _size(bundle)
    proxy.cut_after_bytes(size // 2, direction="up")
    with pytest.raises(UploadError):
        _up(bundle, sshd, remote_dir, proxy.port, kh, retries=0)
    remote = remote_dir / bundle.name
    have = _settled_size(remote)  # the cut session's sftp-server may still be writing what it received
    assert 0 < have < size
    assert remote.read_bytes() == bundle.read_bytes()[:have]
    res = _up(bundle, sshd, remote_dir, proxy.port, kh, retries=0)
    assert res.complete
    # continued from the remote size, nothing before it re-sent (the old sftp-server may still have been
    # flushing received packets when we looked, so the new session can find a little more than `have`)
    assert have <= res.resumed_from < size
    assert res.bytes_sent == res.bytes_accepted == size - res.resumed_from
    assert _sha(remote) == _sha(bundle)


def _settled_size(path: Path, timeout: float = 15.0) -> int:
    """The file's size once it has stopped changing (the same non-zero size on consecutive looks)."""
    deadline = time.monotonic() + timeout
    last = -1
    while time.monotonic() < deadline:
        size = path.stat().st_size if path.exists() else 0
        if size and size == last:
            return size
        last = size
        time.sleep(0.1)
    return last


def _cut_run(sshd: SshdServer, proxy: FaultProxy, bundle: Path, remote_dir: Path, tmp_path: Path, cuts: int) -> None:  # noqa: F811
    """`cuts` random cuts in one call: it retries, each time resuming from the remote size."""
    kh = _known_hosts(tmp_path, sshd, proxy.port)
    rng = random.Random(SEED + cuts)
    # gaps below SIZE/cuts: every cut lands inside the upload, whatever the earlier ones left to send
    size = _size(bundle)
    proxy.cut_series([rng.randrange(1, size // cuts) for _ in range(cuts)], direction="up")
    res = _up(bundle, sshd, remote_dir, proxy.port, kh, retries=cuts + 1)
    assert res.complete and res.attempts_failed == cuts and proxy.faults == cuts
    assert _sha(remote_dir / bundle.name) == _sha(bundle)
    status = upload_status(bundle)["destinations"][0]
    assert status["bytes_resent_total"] == res.bytes_resent
    # bytes count as sent once a write returned; a write cut before its reply may still have reached the server
    # uncounted (the next attempt resumes past it): at most a few SFTP writes per cut, never more than was re-sent
    uncounted = status["bytes_resent_total"] - (status["bytes_sent_total"] - size)
    assert 0 <= uncounted <= cuts * 256 * 1024, uncounted
    assert res.bytes_accepted == size
    # each cut loses at most what was in flight (SSH window and socket buffers), never the whole file
    assert res.bytes_resent < cuts * 4 * MiB
    print(f"sftp, {cuts} cuts: {res.bytes_resent} bytes re-sent in all, {res.bytes_resent // cuts} per cut on average")


def test_random_cuts_complete_with_retries(
    sshd: SshdServer,  # noqa: F811
    proxy: FaultProxy,
    bundle: Path,
    remote_dir: Path,
    tmp_path: Path,
) -> None:
    _cut_run(sshd, proxy, bundle, remote_dir, tmp_path, cuts=5)


@pytest.mark.slow
def test_random_cuts_full(
    sshd: SshdServer,  # noqa: F811
    proxy: FaultProxy,
    bundle: Path,
    remote_dir: Path,
    tmp_path: Path,
) -> None:
    _cut_run(sshd, proxy, bundle, remote_dir, tmp_path, cuts=20)


def test_cli_sftp_takes_a_password_not_a_token(
    sshd: SshdServer,  # noqa: F811
    bundle: Path,
    remote_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`--password-env` names what sftp:// logs in with; `--token-env` there is refused with the right flag."""
    from typer.testing import CliRunner

    from collector.cli import app

    monkeypatch.setenv("SFTP_PW", sshd.account.password)
    kh = _known_hosts(tmp_path, sshd)
    to = f"sftp://{sshd.account.name}@127.0.0.1:{sshd.port}{remote_dir}/"
    base = ["upload", str(bundle), "--case", "694201337", "--to", to, "--known-hosts", str(kh)]
    wrong = CliRunner().invoke(app, [*base, "--token-env", "SFTP_PW"])
    assert wrong.exit_code == 2 and "--password-env" in wrong.output and not remote_dir.exists()
    ok = CliRunner().invoke(app, [*base, "--password-env", "SFTP_PW", "--json"])
    assert ok.exit_code == 0, ok.output
    doc = json.loads(ok.stdout)
    assert doc["complete"] and doc["bytes_accepted"] == _size(bundle) and doc["mode"] == "sftp append"
    assert _sha(remote_dir / bundle.name) == _sha(bundle) and sshd.account.password not in ok.output


def test_refused_sftp_port_is_a_usage_error(bundle: Path, remote_dir: Path, tmp_path: Path) -> None:
    kh = tmp_path / "known_hosts"
    kh.write_text("")
    port = free_port()
    t0 = time.monotonic()
    with pytest.raises(UsageError) as ei:
        upload_bundle(bundle, to=f"sftp://u@127.0.0.1:{port}/x/", case="694201337", password=Secret("pw-pw"),
                      known_hosts=kh, progress=False, retries=5, backoff=1.0)
    assert time.monotonic() - t0 < 1.0 and "connection refused" in ei.value.message and ei.value.exit_code == 2
