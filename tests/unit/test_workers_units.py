"""The distributed fleet's pure parts: sealed runs (round trip, and refusal of every unsafe member, generated),
broker URLs never shown with their password, names that become Redis keys, the task payload, the settings."""

from __future__ import annotations

import hashlib
import io
import tarfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from collector.errors import StoreError, UsageError
from collector.workers import keys
from collector.workers.broker import check_url, shown
from collector.workers.payload import Payload
from collector.workers.seal import pack, tree_digest, unpack
from collector.workers.settings import QUEUE_NAME, Settings


def make_run(root: Path) -> Path:
    run = root / "20261206T000000Z-r1-pb"
    (run / "steps").mkdir(parents=True)
    (run / "raw").mkdir()
    (run / "run.json").write_text('{"status": "ok"}\n')
    (run / "steps" / "001-show-version.txt").write_bytes(bytes(range(256)) * 40)
    (run / "raw" / "000001.chunk").write_bytes(b"\r\n\x00\x1b[0m" * 1000)
    (run / "raw" / "masking.json").write_text("{}")
    (run / "raw" / "masking.json").chmod(0o600)
    return run


def test_a_sealed_run_comes_back_byte_for_byte(tmp_path: Path) -> None:
    run = make_run(tmp_path / "worker")
    archive = tmp_path / "run.tar.gz"
    pack(run, archive)
    back = unpack(archive, tmp_path / "home")
    assert back.name == run.name and tree_digest(back) == tree_digest(run)
    assert (back / "raw" / "masking.json").stat().st_mode & 0o077 == 0  # a private file stays private
    with archive.open("rb") as fh:  # from memory too (small transfers)
        again = unpack(io.BytesIO(fh.read()), tmp_path / "home2")
    assert tree_digest(again) == tree_digest(run)
    with pytest.raises(StoreError, match="exists already"):
        unpack(archive, tmp_path / "home")


def _tar_with(members: list[tarfile.TarInfo]) -> io.BytesIO:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        top = tarfile.TarInfo("run")
        top.type = tarfile.DIRTYPE
        tar.addfile(top)
        for m in members:
            tar.addfile(m, io.BytesIO(b"x" * m.size) if m.isfile() else None)
    buf.seek(0)
    return buf


BAD_NAMES = st.one_of(
    st.builds(lambda s: f"/{s}", st.text(min_size=1, max_size=20)),
    st.builds(lambda a, b: f"run/{a}/../{b}", st.text(min_size=1, max_size=8), st.text(min_size=1, max_size=8)),
    st.builds(lambda s: f"run/../{s}", st.text(min_size=1, max_size=20)),
    st.builds(lambda s: f"other/{s}", st.text(alphabet="abc.-_", min_size=1, max_size=20)),
    st.builds(lambda s: f"run\\..\\{s}", st.text(alphabet="abc", min_size=1, max_size=5)),
)


@settings(max_examples=60, deadline=None)
@given(name=BAD_NAMES)
def test_a_member_outside_the_run_folder_is_refused(tmp_path_factory: pytest.TempPathFactory, name: str) -> None:
    dest = tmp_path_factory.mktemp("dest")
    info = tarfile.TarInfo(name)
    info.size = 1
    with pytest.raises(StoreError):
        unpack(_tar_with([info]), dest)
    assert not any(p.is_file() for p in dest.rglob("*"))


@pytest.mark.parametrize("kind", [tarfile.SYMTYPE, tarfile.LNKTYPE, tarfile.FIFOTYPE, tarfile.CHRTYPE])
def test_links_and_devices_are_refused(tmp_path: Path, kind: bytes) -> None:
    info = tarfile.TarInfo("run/evil")
    info.type = kind
    info.linkname = "/etc/passwd"
    with pytest.raises(StoreError, match="not a regular file"):
        unpack(_tar_with([info]), tmp_path)
    assert not (tmp_path / "run").exists()


def test_garbage_is_a_clean_error(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="could not be unpacked"):
        unpack(io.BytesIO(b"\x1f\x8b not really gzip"), tmp_path)


@settings(max_examples=80, deadline=None)
@given(password=st.text(alphabet=st.characters(codec="ascii", exclude_characters="@/:?#[]%\\"), min_size=3,
                        max_size=30))
def test_a_broker_password_is_never_shown(password: str) -> None:
    url = f"redis://ops:{password}@queue.noc:6379/0"
    assert shown(url) == "redis://ops:***@queue.noc:6379/0"
    assert shown("redis://127.0.0.1:6379/0") == "redis://127.0.0.1:6379/0"


@pytest.mark.parametrize("url", ["http://queue:6379", "queue.noc:6379", "", "redis://", "amqp://guest@rabbit//"])
def test_only_redis_urls_are_brokers(url: str) -> None:
    with pytest.raises(UsageError):
        check_url(url)


@settings(max_examples=100, deadline=None)
@given(name=st.text(max_size=120))
def test_names_that_become_keys_are_plain(name: str) -> None:
    """Queue names, fleet ids and device folders are part of Redis keys: a bounded, plain alphabet only."""
    if QUEUE_NAME.fullmatch(name):
        assert all(c.isascii() and (c.isalnum() or c in "._:-") for c in name) and 0 < len(name) <= 100
    for check in (keys.fleet_id, keys.slug):
        try:
            value = check(name)
        except UsageError:
            continue
        assert value == name and "*" not in name and " " not in name and name not in (".", "..")


def _payload(**over: object) -> dict[str, object]:
    text = "name: x\nplatform: cisco_ios\nsteps:\n  - command: show version\n"
    job = {"fleet_id": "ab" * 8, "device": "R1", "slug": "r1", "target": "ssh://admin@127.0.0.1:22",
           "platform": "cisco_ios", "credentials": {"password": {"env": "PW"}},
           "playbook": {"name": "x", "path": "/nowhere/x.yaml", "sha256": hashlib.sha256(text.encode()).hexdigest()}}
    return {"job": job, "playbook_text": text, "fleet_dir": "fleet-20261206T000000Z-x", **over}


def test_the_payload_carries_references_and_a_checked_playbook() -> None:
    p = Payload.model_validate(_payload())
    assert p.playbook_ok() and p.job.credentials["password"].env == "PW"
    assert not Payload.model_validate(_payload(playbook_text="name: y\n")).playbook_ok()
    for bad in ("../etc", "fleet-../../x", "runs/fleet-x", "fleet-"):
        with pytest.raises(ValidationError):
            Payload.model_validate(_payload(fleet_dir=bad))


def _library_payload(path: str, text: str = "") -> Payload:
    doc = _payload(playbook_text=text)
    doc["job"]["playbook"] = {"name": "tac-high-cpu", "path": path, "sha256": ""}  # type: ignore[index]
    return Payload.model_validate(doc)


@pytest.mark.parametrize("path", ["/etc/passwd", "../tac/high-cpu", "tac/../../etc/passwd", "tac/no-such", ""])
def test_nothing_carried_is_accepted_only_for_a_library_name(path: str) -> None:
    """A job without a playbook hash names a playbook of the worker's own library, or it is refused."""
    assert _library_payload("tac/high-cpu").playbook_ok()
    assert not _library_payload("tac/high-cpu", text="name: x\n").playbook_ok()  # text without a hash
    assert not _library_payload(path).playbook_ok()


def test_settings_round_trip_through_the_environment() -> None:
    s = Settings(broker="redis://q:6379/1", visibility_timeout=30, heartbeat=2)
    assert Settings.from_env(s.to_env()) == s
    conf = s.celery()
    assert conf["task_acks_late"] and conf["task_reject_on_worker_lost"] and conf["worker_prefetch_multiplier"] == 1
    assert conf["broker_transport_options"]["visibility_timeout"] == 30
    # a worker killed while it holds kombu's restore mutex must not hold redeliveries back for kombu's 5 minutes
    assert conf["broker_transport_options"]["unacked_mutex_expire"] <= 15
    assert Settings.from_env({"COLLECTOR_VISIBILITY_TIMEOUT": "nonsense"}).visibility_timeout == 900
