"""Host-key policy: unknown / known / changed / hashed / [host]:port / TOFU recording, without a network."""

from __future__ import annotations

import base64
import hashlib
import os
import shutil
import stat
import subprocess
from pathlib import Path

import paramiko
import pytest

from collector.errors import ChangedHostKey, UnknownHostKey
from collector.transports.ssh_hostkeys import (
    HostKeyVerifier,
    default_own_known_hosts,
    fingerprint,
    known_hosts_line,
    known_hosts_name,
)


@pytest.fixture(scope="module")
def keys() -> dict[str, paramiko.PKey]:
    return {
        "a": paramiko.ECDSAKey.generate(),
        "b": paramiko.ECDSAKey.generate(),
        "rsa": paramiko.RSAKey.generate(1024),
    }


def line(name: str, key: paramiko.PKey) -> str:
    return f"{name} {key.get_name()} {key.get_base64()}\n"


def test_fingerprint_is_openssh_sha256_format(keys: dict[str, paramiko.PKey], tmp_path: Path) -> None:
    key = keys["a"]
    want = "SHA256:" + base64.b64encode(hashlib.sha256(key.asbytes()).digest()).decode().rstrip("=")
    assert fingerprint(key) == want
    assert not fingerprint(key).endswith("=")
    keygen = shutil.which("ssh-keygen")
    if keygen:  # cross-check with OpenSSH itself
        pub = tmp_path / "k.pub"
        pub.write_text(f"{key.get_name()} {key.get_base64()}\n")
        out = subprocess.run([keygen, "-l", "-E", "sha256", "-f", str(pub)], capture_output=True, text=True)
        assert fingerprint(key) in out.stdout


def test_names_for_default_and_other_ports() -> None:
    assert known_hosts_name("r1", 22) == "r1"
    assert known_hosts_name("r1", None) == "r1"
    assert known_hosts_name("10.0.0.1", 2222) == "[10.0.0.1]:2222"


def test_unknown_key_refused_with_fingerprint_and_nothing_written(
    keys: dict[str, paramiko.PKey], tmp_path: Path
) -> None:
    own = tmp_path / "own" / "known_hosts"
    v = HostKeyVerifier(system_known_hosts=None, own_known_hosts=str(own))
    with pytest.raises(UnknownHostKey) as err:
        v.verify("10.0.0.1", 2222, keys["a"])
    assert err.value.exit_code == 11
    assert "[10.0.0.1]:2222" in err.value.message
    assert fingerprint(keys["a"]) in err.value.message
    assert "--accept-new-host-key" in err.value.hint and str(own) in err.value.hint
    assert not own.exists()


def test_accept_new_records_atomically_then_known(keys: dict[str, paramiko.PKey], tmp_path: Path) -> None:
    own = tmp_path / "dir" / "known_hosts"
    res = HostKeyVerifier(None, str(own), accept_new=True).verify("10.0.0.1", 2222, keys["a"])
    assert res.status == "trusted on first use"
    assert own.read_text() == known_hosts_line("10.0.0.1", 2222, keys["a"])
    assert stat.S_IMODE(own.stat().st_mode) == 0o600
    assert [p.name for p in own.parent.iterdir() if p.name.startswith(".known_hosts.")] == []
    again = HostKeyVerifier(None, str(own)).verify("10.0.0.1", 2222, keys["a"])
    assert again.status == "known" and again.source == f"{own}:1"
    # a second host is appended, the first entry kept
    HostKeyVerifier(None, str(own), accept_new=True).verify("r2", 22, keys["b"])
    assert own.read_text().splitlines() == [
        known_hosts_line("10.0.0.1", 2222, keys["a"]).strip(),
        known_hosts_line("r2", 22, keys["b"]).strip(),
    ]


def test_system_file_is_read_but_never_written(keys: dict[str, paramiko.PKey], tmp_path: Path) -> None:
    system = tmp_path / "system_known_hosts"
    system.write_text("# comment\n\n" + line("r1", keys["a"]))
    before = system.read_bytes()
    own = tmp_path / "own"
    v = HostKeyVerifier(str(system), str(own), accept_new=True)
    assert v.verify("r1", 22, keys["a"]).source == f"{system}:3"
    v.verify("r9", 22, keys["b"])  # TOFU goes to the own file
    assert system.read_bytes() == before
    assert "r9 " in own.read_text()


def test_changed_key_refused_even_with_accept_new(keys: dict[str, paramiko.PKey], tmp_path: Path) -> None:
    own = tmp_path / "kh"
    own.write_text(line("other", keys["b"]) + line("[r1]:830", keys["a"]))
    before = own.read_bytes()
    with pytest.raises(ChangedHostKey) as err:
        HostKeyVerifier(None, str(own), accept_new=True).verify("r1", 830, keys["b"])
    msg = err.value.message
    assert err.value.exit_code == 12
    assert fingerprint(keys["b"]) in msg and fingerprint(keys["a"]) in msg
    assert f"{own}:2" in msg
    assert "line 2" in err.value.hint
    assert own.read_bytes() == before


def test_key_of_another_type_than_on_record_is_a_change(keys: dict[str, paramiko.PKey], tmp_path: Path) -> None:
    own = tmp_path / "kh"
    own.write_text(line("r1", keys["a"]))
    with pytest.raises(ChangedHostKey):
        HostKeyVerifier(None, str(own), accept_new=True).verify("r1", 22, keys["rsa"])


def test_hashed_entries_match_only_their_host(keys: dict[str, paramiko.PKey], tmp_path: Path) -> None:
    own = tmp_path / "kh"
    hashed = paramiko.HostKeys.hash_host("[10.1.1.1]:2222")
    own.write_text(line(hashed, keys["a"]))
    v = HostKeyVerifier(None, str(own))
    assert v.verify("10.1.1.1", 2222, keys["a"]).status == "known"
    with pytest.raises(ChangedHostKey):
        v.verify("10.1.1.1", 2222, keys["b"])
    with pytest.raises(UnknownHostKey):
        v.verify("10.1.1.1", 22, keys["a"])  # same host, other port: another name
    with pytest.raises(UnknownHostKey):
        v.verify("10.1.1.2", 2222, keys["a"])


def test_port_entries_do_not_leak_between_ports(keys: dict[str, paramiko.PKey], tmp_path: Path) -> None:
    own = tmp_path / "kh"
    own.write_text(line("r1", keys["a"]) + line("[r1]:2222", keys["b"]))
    v = HostKeyVerifier(None, str(own))
    assert v.verify("r1", 22, keys["a"]).status == "known"
    assert v.verify("r1", 2222, keys["b"]).status == "known"
    with pytest.raises(ChangedHostKey):
        v.verify("r1", 22, keys["b"])


def test_patterns_lists_wildcards_negation_and_revoked(keys: dict[str, paramiko.PKey], tmp_path: Path) -> None:
    own = tmp_path / "kh"
    own.write_text(
        "@cert-authority *.corp ssh-ed25519 AAAA\n"
        + line("r1,r2.lab", keys["a"])
        + line("*.dc,!bad.dc", keys["b"])
        + "garbage line\n"
        + f"@revoked * {keys['rsa'].get_name()} {keys['rsa'].get_base64()}\n"
    )
    v = HostKeyVerifier(None, str(own))
    assert v.verify("R2.LAB", 22, keys["a"]).status == "known"
    assert v.verify("x.dc", 22, keys["b"]).status == "known"
    with pytest.raises(UnknownHostKey):
        v.verify("bad.dc", 22, keys["b"])
    with pytest.raises(ChangedHostKey, match="revoked"):
        HostKeyVerifier(None, str(own), accept_new=True).verify("new", 22, keys["rsa"])


def test_known_key_types_are_preferred_in_negotiation(keys: dict[str, paramiko.PKey], tmp_path: Path) -> None:
    own = tmp_path / "kh"
    own.write_text(line("r1", keys["rsa"]) + line("r1", keys["a"]))
    offered = ("ssh-ed25519", "ecdsa-sha2-nistp256", "rsa-sha2-512", "rsa-sha2-256")
    got = HostKeyVerifier(None, str(own)).preferred_key_types("r1", 22, offered)
    assert got == ["rsa-sha2-512", "rsa-sha2-256", "ecdsa-sha2-nistp256", "ssh-ed25519"]
    assert HostKeyVerifier(None, str(own)).preferred_key_types("r2", 22, offered) == list(offered)


def test_default_own_file_follows_collector_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("COLLECTOR_HOME", str(tmp_path))
    assert default_own_known_hosts() == os.path.join(str(tmp_path), "known_hosts")
    monkeypatch.delenv("COLLECTOR_HOME")
    assert default_own_known_hosts().endswith("/.local/share/collector/known_hosts")
