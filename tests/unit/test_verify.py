"""`verify_bundle`: a flipped byte in any member, or in the archive itself, is found and named."""

from __future__ import annotations

import gzip
import hashlib
import io
import re
import tarfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from collector.bundle import build_bundle, verify_bundle
from collector.errors import BundleError
from tests.corpus.make_run import RunSpec, StepSpec, make_run


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("verify")
    rd = make_run(tmp / "runs", RunSpec(steps=[
        StepSpec("show version", b"Cisco IOS Software\n" * 20),
        StepSpec("show running-config", b"hostname R1\nenable secret 0 Abcdefgh1\n", interrupted_first=True),
    ]))
    return build_bundle([rd], tmp / "out", include_raw=True).path


def rebuild(src: Path, dst: Path, flip: str | None = None, drop: str | None = None, add: str | None = None,
            update_sha: bool = False, at: float = 0.5) -> Path:
    """Copy a bundle member by member, flipping one bit of `flip` at fraction `at`, optionally dropping/adding."""
    out = io.BytesIO()
    with tarfile.open(src) as tin, tarfile.open(fileobj=out, mode="w:gz") as tout:
        top = tin.getmembers()[0].name
        for m in tin.getmembers():
            rel = m.name.partition("/")[2]
            if rel == drop:
                continue
            data = tin.extractfile(m).read() if m.isfile() else None  # type: ignore[union-attr]
            if data is not None and rel == flip:
                b = bytearray(data)
                b[min(len(b) - 1, int(len(b) * at))] ^= 0x01
                data = bytes(b)
            info = tarfile.TarInfo(m.name)
            info.type, info.mode, info.mtime = m.type, m.mode, m.mtime
            info.size = len(data) if data is not None else 0
            tout.addfile(info, io.BytesIO(data) if data is not None else None)
        if add:
            info = tarfile.TarInfo(f"{top}/{add}")
            info.size = 3
            tout.addfile(info, io.BytesIO(b"hi\n"))
    dst.write_bytes(out.getvalue())
    sha = dst.with_name(dst.name + ".sha256")
    digest = hashlib.sha256(dst.read_bytes()).hexdigest() if update_sha else \
        src.with_name(src.name + ".sha256").read_text().split()[0]
    sha.write_text(f"{digest}  {dst.name}\n")
    return dst


def member_names(path: Path) -> list[str]:
    with tarfile.open(path) as t:
        return [m.name.partition("/")[2] for m in t.getmembers() if m.isfile()]


def test_good_bundle_verifies(bundle: Path) -> None:
    rep = verify_bundle(bundle)
    assert rep.ok and rep.first_bad is None and rep.problems == []
    assert rep.checked == len(member_names(bundle))


def test_flipped_byte_in_every_member_is_named(bundle: Path, tmp_path: Path) -> None:
    names = member_names(bundle)
    assert len(names) >= 8
    for i, name in enumerate(names):
        # with a stale .sha256, and with one "fixed" by whoever altered it; first, middle and last byte
        for update_sha, at in ((False, 0.5), (True, 0.0), (True, 0.5), (True, 1.0)):
            bad = rebuild(bundle, tmp_path / f"b{i}{int(update_sha)}{at}.tar.gz", flip=name, update_sha=update_sha,
                          at=at)
            rep = verify_bundle(bad)
            assert not rep.ok, name
            assert rep.first_bad == name, (name, rep.problems)
            assert any(name in p for p in rep.problems)
            assert any(bad.name in p for p in rep.problems) != update_sha


def test_identical_rebuild_differs_only_in_archive_checksum(bundle: Path, tmp_path: Path) -> None:
    same = rebuild(bundle, tmp_path / "same.tar.gz")
    rep = verify_bundle(same)
    assert not rep.ok and rep.first_bad == same.name and len(rep.problems) == 1
    assert verify_bundle(rebuild(bundle, tmp_path / "same2.tar.gz", update_sha=True)).ok


def test_flipped_byte_in_the_archive_file(bundle: Path, tmp_path: Path) -> None:
    data = bytearray(bundle.read_bytes())
    for pos in (len(data) // 3, len(data) - 20, 40):
        bad = tmp_path / f"flip{pos}.tar.gz"
        d = bytearray(data)
        d[pos] ^= 0x10
        bad.write_bytes(bytes(d))
        bad.with_name(bad.name + ".sha256").write_text(bundle.with_name(bundle.name + ".sha256").read_text())
        rep = verify_bundle(bad)
        assert not rep.ok and rep.first_bad is not None
        assert any(bad.name in p for p in rep.problems)


def test_missing_and_extra_members(bundle: Path, tmp_path: Path) -> None:
    victim = next(n for n in member_names(bundle) if n.endswith("show-version.txt"))
    rep = verify_bundle(rebuild(bundle, tmp_path / "drop.tar.gz", drop=victim, update_sha=True))
    assert not rep.ok and rep.first_bad == victim
    rep = verify_bundle(rebuild(bundle, tmp_path / "add.tar.gz", add="evil.sh", update_sha=True))
    assert not rep.ok and rep.first_bad == "evil.sh"


def test_truncated_archive(bundle: Path, tmp_path: Path) -> None:
    bad = tmp_path / "trunc.tar.gz"
    bad.write_bytes(bundle.read_bytes()[: bundle.stat().st_size // 2])
    rep = verify_bundle(bad)
    assert not rep.ok and any("corrupt or truncated" in p for p in rep.problems)


def test_missing_sha256_file(bundle: Path, tmp_path: Path) -> None:
    lone = tmp_path / bundle.name
    lone.write_bytes(bundle.read_bytes())
    rep = verify_bundle(lone)
    assert not rep.ok and rep.first_bad == lone.name and ".sha256 is missing" in rep.problems[0]


def test_unreadable_input_raises(tmp_path: Path) -> None:
    with pytest.raises(BundleError):
        verify_bundle(tmp_path / "nope.tar.gz")
    with pytest.raises(BundleError):
        verify_bundle(tmp_path)


def test_not_a_bundle(tmp_path: Path) -> None:
    junk = tmp_path / "junk.tar.gz"
    junk.write_bytes(gzip.compress(b"not a tar"))
    rep = verify_bundle(junk)
    assert not rep.ok


def craft(src: Path, dst: Path, extra: list[tuple[tarfile.TarInfo, bytes | None]], rename_top: str | None = None,
          first: bool = False) -> Path:
    """A copy of a good bundle with crafted members added (first or last), optionally under another top folder;
    its `.sha256` is made to match, so only the members can be blamed."""
    out = io.BytesIO()
    with tarfile.open(src) as tin, tarfile.open(fileobj=out, mode="w:gz", format=tarfile.PAX_FORMAT) as tout:
        def add_extra() -> None:
            for info, data in extra:
                tout.addfile(info, io.BytesIO(data) if data is not None else None)

        if first:
            add_extra()
        for m in tin.getmembers():
            data = tin.extractfile(m).read() if m.isfile() else None  # type: ignore[union-attr]
            info = tarfile.TarInfo(m.name if rename_top is None else rename_top + m.name[m.name.index("/"):]
                                   if "/" in m.name else rename_top)
            info.type, info.mode, info.size = m.type, m.mode, len(data) if data is not None else 0
            tout.addfile(info, io.BytesIO(data) if data is not None else None)
        if not first:
            add_extra()
    dst.write_bytes(out.getvalue())
    dst.with_name(dst.name + ".sha256").write_text(f"{hashlib.sha256(out.getvalue()).hexdigest()}  {dst.name}\n")
    return dst


def file_member(name: str, data: bytes = b"hi\n") -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    return info, data


def special(name: str, kind: bytes, link: str = "") -> tuple[tarfile.TarInfo, None]:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, link
    return info, None


def top_of(path: Path) -> str:
    with tarfile.open(path) as t:
        return t.getmembers()[0].name.split("/")[0]


def assert_refused(rep: object, fragment: str) -> None:
    assert not rep.ok, rep.problems  # type: ignore[attr-defined]
    assert any(fragment in p for p in rep.problems), rep.problems  # type: ignore[attr-defined]
    for p in rep.problems:  # type: ignore[attr-defined]
        assert "[" not in p and not any(ord(c) < 32 or 0x7f <= ord(c) < 0xa0 for c in p), p


def test_dot_dot_top_folder_and_escapes_are_refused(bundle: Path, tmp_path: Path) -> None:
    top = top_of(bundle)
    rep = verify_bundle(craft(bundle, tmp_path / "dotdot.tar.gz", [], rename_top=".."))
    assert_refused(rep, "'..'")
    for i, name in enumerate([f"{top}/../../x", f"{top}/steps/../../../etc/cron.d/x", f"/{top}/x", "/etc/passwd",
                              f"{top}/./README.txt", f"{top}//x", f"{top}/a\\..\\..\\x", "..", f"{top}/.."]):
        for at_first in (False, True):
            rep = verify_bundle(craft(bundle, tmp_path / f"esc{i}{at_first}.tar.gz", [file_member(name)],
                                      first=at_first))
            assert_refused(rep, "refused")


def test_links_devices_fifos_and_duplicates_are_refused(bundle: Path, tmp_path: Path) -> None:
    top = top_of(bundle)
    cases = {
        "symbolic link": special(f"{top}/evil", tarfile.SYMTYPE, "/etc/passwd"),
        "hard link": special(f"{top}/evil", tarfile.LNKTYPE, f"{top}/README.txt"),
        "character device": special(f"{top}/evil", tarfile.CHRTYPE),
        "block device": special(f"{top}/evil", tarfile.BLKTYPE),
        "FIFO": special(f"{top}/evil", tarfile.FIFOTYPE),
        "contiguous file": special(f"{top}/evil", tarfile.CONTTYPE),
        "twice": file_member(f"{top}/README.txt", b"a second README\n"),
    }
    for what, member in cases.items():
        rep = verify_bundle(craft(bundle, tmp_path / f"{what.replace(' ', '-')}.tar.gz", [member]))
        assert_refused(rep, what)
    # a link whose own name is fine and which points inside the bundle is still refused
    rep = verify_bundle(craft(bundle, tmp_path / "innocent.tar.gz",
                              [special(f"{top}/runs/x", tarfile.SYMTYPE, "README.txt")]))
    assert_refused(rep, "symbolic link")


COMPONENTS = st.sampled_from(["..", ".", "", "runs", "steps", "x.txt", " ", "a b", "\\..", "..\\x", "[/]", "\x1b[2J",
                              "\u202e", "é", "~", "-", "$(id)", "\x00"]) | st.text(max_size=6)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(parts=st.lists(COMPONENTS, min_size=1, max_size=5), absolute=st.booleans(), under_top=st.booleans())
def test_generated_member_names_outside_the_plain_set_are_refused(bundle: Path,
                                                                  tmp_path_factory: pytest.TempPathFactory,
                                                                  parts: list[str], absolute: bool,
                                                                  under_top: bool) -> None:
    name = "/".join(([top_of(bundle)] if under_top else []) + parts)
    name = "/" + name if absolute else name
    assume("\x00" not in name and name.rstrip("/") and len(name.encode()) < 200)
    plain = not absolute and all(re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9._,+=@-]*", p) for p in name.split("/"))
    rep = verify_bundle(craft(bundle, tmp_path_factory.mktemp("gen") / "b.tar.gz", [file_member(name)]))
    assert not rep.ok
    if not plain:
        assert_refused(rep, "refused")
