"""Bundle building: name, layout, manifest records, README, checksums, pseudonym map, encryption, flat memory."""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
import tarfile
import textwrap
import time
from pathlib import Path

import pytest

from collector.bundle import build_bundle, verify_bundle
from collector.errors import BundleError, CollectorError
from collector.secrets import Secret
from collector.store.chunks import read_index
from tests.corpus.make_run import RunSpec, StepSpec, make_run

ROOT = Path(__file__).resolve().parents[2]
CONFIG = b"hostname BR-RTR-01\nenable secret 0 EnablePlain77\ninterface Gi0/0\n ip address 10.1.2.3 255.255.255.0\n"


def members(path: Path) -> dict[str, bytes]:
    with tarfile.open(path) as tar:
        return {m.name.split("/", 1)[1]: tar.extractfile(m).read()  # type: ignore[union-attr]
                for m in tar.getmembers() if m.isfile()}


def sample_run(runs: Path, **kw: object) -> Path:
    spec = RunSpec(steps=[
        StepSpec("show version", b"Cisco IOS Software, Version 15.7(3)M8\nuptime is 3 weeks\n"),
        StepSpec("show running-config", CONFIG, interrupted_first=True),
        StepSpec("show bogus", b"% Invalid input detected at '^' marker.\n", status="error",
                 error_marker="% Invalid input detected"),
        StepSpec("show tech-support", b"partial tech\n" * 50, status="timeout", timed_out=True, truncated=True),
        StepSpec("terminal no monitor", b"", kind="cleanup"),
    ], chunk_size=512)
    for k, v in kw.items():
        setattr(spec, k, v)
    return make_run(runs, spec)


def test_layout_name_checksum_and_manifest(tmp_path: Path) -> None:
    rd = sample_run(tmp_path / "runs")
    res = build_bundle([rd], tmp_path / "out", case="SR 6123,4")
    assert re.fullmatch(r"collector-SR-6123,4-br-rtr-01-\d{8}T\d{6}Z\.tar\.gz", res.path.name)
    # the .sha256 beside it is sha256sum format and true
    assert res.path.stat().st_mode & 0o777 == 0o600
    digest = hashlib.sha256(res.path.read_bytes()).hexdigest()
    assert res.sha256 == digest
    assert res.sha256_path.read_text() == f"{digest}  {res.path.name}\n"
    with tarfile.open(res.path) as tar:
        names = tar.getnames()
    top = res.path.name.removesuffix(".tar.gz")
    assert all(n == top or n.startswith(top + "/") for n in names)
    got = members(res.path)
    assert {"README.txt", "manifest.json", "SHA256SUMS"} <= set(got)
    man = json.loads(got["manifest.json"])
    assert man == res.manifest
    run = man["runs"][0]
    assert run["target"] == "ssh://netops@BR-RTR-01:22" and run["platform"] == "cisco_ios"
    assert run["playbook"]["sha256"] == hashlib.sha256(b"tac-baseline").hexdigest()
    assert run["link"]["kex"] == "curve25519-sha256" and run["transport"] == "ssh"
    assert run["cleanup"] == "done" and run["status"] == "completed"
    assert len(run["outages"]) == 1 and run["outages"][0]["cause"] == "connection reset by peer"
    assert run["outages"][0]["end"] is not None and run["outages"][0]["reconnect_attempts"] == 1
    steps = {s["command"]: s for s in run["steps"]}
    for s in run["steps"]:  # every step file is in the bundle and its sha256 is that of the bundled bytes
        assert hashlib.sha256(got[s["file"]]).hexdigest() == s["sha256"] and len(got[s["file"]]) == s["bytes"]
    cfg = steps["show running-config"]
    assert cfg["resumed"] and [a["status"] for a in cfg["attempts"]] == ["interrupted", "completed"]
    assert cfg["attempts"][0]["partial_file"].endswith("002-show-running-config.txt.partial.1")
    assert cfg["attempts"][0]["partial_file"] in got and cfg["attempts"][0]["cause"] == "connection reset by peer"
    assert all(isinstance(a["raw_range"][0], int) for a in cfg["attempts"])
    assert "source_sha256" not in cfg  # an unredacted hash would allow guessing short secrets
    assert steps["show bogus"]["status"] == "error" and steps["show bogus"]["error_marker"].startswith("% Invalid")
    tech = steps["show tech-support"]
    assert tech["timed_out"] and tech["truncated"] and tech["duration"] == 1.0 and tech["started_at"]
    assert steps["terminal no monitor"]["kind"] == "cleanup"
    assert run["summary"]["failed"] == 2 and run["summary"]["timed_out"] == 1
    # redaction: counts only, never values; the secret is gone from every member
    # step file and partial file of the first attempt (the raw transcript stays in the run directory)
    assert man["redaction"]["rules"] == {"enable-secret": 2}
    assert man["members"]["runs/01-br-rtr-01/steps/002-show-running-config.txt"]["redactions"] == 1
    assert not any("raw/" in m for m in got) and run["raw"]["included"] is False
    assert man["members"]["runs/01-br-rtr-01/steps/001-show-version.txt"]["redactions"] == 0
    assert b"EnablePlain77" not in b"".join(got.values())
    # every member (but the manifest and the sums file) is listed with its checksum
    listed = man["members"]
    assert set(listed) == set(got) - {"manifest.json", "SHA256SUMS"}
    for name, meta in listed.items():
        assert hashlib.sha256(got[name]).hexdigest() == meta["sha256"]
    sums = dict(line.split("  ")[::-1] for line in got["SHA256SUMS"].decode().splitlines() if line[0] != "#")
    assert sums["manifest.json"] == hashlib.sha256(got["manifest.json"]).hexdigest()
    readme = got["README.txt"].decode()
    assert "What failed" in readme and "show bogus" in readme and "TIMED OUT" in readme and "OUTAGE" in readme
    assert verify_bundle(res.path).ok


def test_raw_transcript_is_the_chunks_in_order_when_nothing_is_secret(tmp_path: Path) -> None:
    steps = [StepSpec(f"show clock {i}", b"10:00:00.000 UTC\r\x1b[K\x00\n" * 30) for i in range(6)]
    rd = make_run(tmp_path / "runs", RunSpec(steps=steps, chunk_size=256))
    seals = read_index(rd / "raw")
    assert len(seals) > 3
    raw = b"".join((rd / "raw" / s.file).read_bytes() for s in seals)
    res = build_bundle([rd], tmp_path / "out", include_raw=True)
    got = members(res.path)
    assert got["runs/01-br-rtr-01/raw/transcript.raw"] == raw
    assert res.manifest["runs"][0]["raw"]["problems"] == []
    assert res.manifest["runs"][0]["raw"]["chunks"] == len(seals)


def test_damaged_raw_chunk_is_reported_in_the_manifest(tmp_path: Path) -> None:
    rd = make_run(tmp_path / "runs", RunSpec(steps=[StepSpec("show clock", b"x" * 4000 + b"\n")], chunk_size=1024))
    chunk = rd / "raw" / "000002.chunk"
    data = bytearray(chunk.read_bytes())
    data[10] ^= 1
    chunk.write_bytes(bytes(data))
    res = build_bundle([rd], tmp_path / "out")
    assert res.manifest["runs"][0]["raw"]["problems"] == ["000002.chunk: SHA-256 differs from its seal"]
    assert "RAW STREAM" in members(res.path)["README.txt"].decode()


def test_several_runs_share_one_pseudonym_map_kept_outside(tmp_path: Path) -> None:
    shared = b"neighbor 10.1.2.3 remote-as 65000\nlldp neighbor CORE-SW-02\n"
    r1 = make_run(tmp_path / "runs", RunSpec(steps=[StepSpec("show run", CONFIG + shared),
                                                    StepSpec("show ip bgp neighbors 10.1.2.3", b"BGP state\n",
                                                             interrupted_first=True)]))
    r2 = make_run(tmp_path / "runs", RunSpec(target="ssh://jdoe@CORE-SW-02", prompt="CORE-SW-02#", steps=[
        StepSpec("show run", b"hostname CORE-SW-02\n ip address 10.1.2.77 255.255.255.0\n" + shared)]))
    mapdir = tmp_path / "private"
    res = build_bundle([r1, r2], tmp_path / "out", anonymize={"ips", "hostnames", "users"}, map_dir=mapdir)
    assert "-multi-" in res.path.name and "br-rtr" not in res.path.name.lower()
    assert res.map_path is not None and res.map_path.parent == mapdir
    assert res.map_path.name == res.path.name + ".private-map.json"
    assert res.map_path.stat().st_mode & 0o777 == 0o600
    pmap = json.loads(res.map_path.read_text())
    got = members(res.path)
    blob = b"".join(got.values())
    for real in (b"10.1.2.3", b"10.1.2.77", b"CORE-SW-02", b"BR-RTR-01", b"br-rtr-01", b"netops", b"jdoe"):
        assert real not in blob, real
    assert pmap["salt"].encode() not in blob
    assert not any("private-map" in n for n in got)
    names = "\n".join(got)
    assert "10.1.2.3" not in names and "br-rtr" not in names.lower() and "core-sw" not in names.lower()
    bgp = [s for s in res.manifest["runs"][0]["steps"] if "bgp" in s["command"]][0]
    assert bgp["file"] in got and bgp["attempts"][0]["partial_file"] in got
    assert bgp["command"] == f"show ip bgp neighbors {pmap['ipv4']['10.1.2.3']}"
    m3 = pmap["ipv4"]["10.1.2.3"].encode()
    host = pmap["hostnames"]["core-sw-02"].encode()
    files = [v for k, v in got.items() if k.endswith("show-run.txt")]
    assert len(files) == 2 and all(m3 in f and b"lldp neighbor " + host in f for f in files)
    assert pmap["ipv4"]["10.1.2.77"].rsplit(".", 1)[0] == pmap["ipv4"]["10.1.2.3"].rsplit(".", 1)[0]
    assert res.manifest["runs"][1]["target"] == f"ssh://{pmap['users']['jdoe']}@{host.decode()}"
    assert verify_bundle(res.path).ok


def test_map_defaults_to_the_state_dir_never_beside_the_bundle(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLLECTOR_HOME", str(tmp_path / "home"))
    rd = sample_run(tmp_path / "runs")
    res = build_bundle([rd], tmp_path / "out", anonymize={"ips"})
    assert res.map_path == tmp_path / "home" / "private-maps" / (res.path.name + ".private-map.json")
    assert res.map_path.stat().st_mode & 0o777 == 0o600
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [res.path.name, res.sha256_path.name]
    assert build_bundle([rd], tmp_path / "out2").map_path is None
    for inside in (tmp_path / "out", tmp_path / "out" / "maps"):  # a glob upload of the folder would send it
        with pytest.raises(BundleError, match="private map"):
            build_bundle([rd], tmp_path / "out", anonymize={"ips"}, map_dir=inside)
    assert len(list((tmp_path / "out").glob("*.tar.gz"))) == 1


def test_default_state_dir_follows_the_platform(monkeypatch: pytest.MonkeyPatch) -> None:
    import platformdirs

    from collector.bundle.statedir import state_dir

    monkeypatch.delenv("COLLECTOR_HOME", raising=False)
    assert state_dir() == Path(platformdirs.user_state_dir("collector"))


def test_no_credential_given_to_collector_appears_anywhere(tmp_path: Path) -> None:
    rd = make_run(tmp_path / "runs", RunSpec(steps=[
        StepSpec("show history", b"ssh -l netops 10.0.0.1 password Cr3d!Given99\nCr3d!Given99\n"),
        StepSpec("show users", b"user netops otp 918273645\n")]))
    res = build_bundle([rd], tmp_path / "out", extra_secrets=[Secret("Cr3d!Given99"), Secret("918273645", "otp")])
    blob = b"".join(members(res.path).values()) + res.sha256_path.read_bytes()
    assert b"Cr3d!Given99" not in blob and b"918273645" not in blob
    assert res.redaction_counts["collector-credential"] >= 2


def test_xz_and_age_encryption_roundtrip(tmp_path: Path) -> None:
    import pyrage
    from pyrage import x25519

    ident = x25519.Identity.generate()
    rd = sample_run(tmp_path / "runs")
    res = build_bundle([rd], tmp_path / "out", compression="xz", encrypt_to=[str(ident.to_public())])
    assert res.path.name.endswith(".tar.xz") and verify_bundle(res.path).ok
    assert res.encrypted_path == res.path.with_name(res.path.name + ".age")
    enc = res.encrypted_path.read_bytes()
    assert hashlib.sha256(enc).hexdigest() == res.encrypted_sha256
    sha_file = res.encrypted_path.with_name(res.encrypted_path.name + ".sha256")
    assert sha_file.read_text() == f"{res.encrypted_sha256}  {res.encrypted_path.name}\n"
    assert pyrage.decrypt(enc, [ident]) == res.path.read_bytes()
    assert verify_bundle(res.encrypted_path).ok
    flipped = bytearray(enc)
    flipped[len(enc) // 2] ^= 1
    res.encrypted_path.write_bytes(bytes(flipped))
    rep = verify_bundle(res.encrypted_path)
    assert not rep.ok and rep.first_bad == res.encrypted_path.name
    with pytest.raises(BundleError):
        build_bundle([rd], tmp_path / "out3", encrypt_to=["age1notakey"])


def test_redaction_off_still_removes_credentials_and_keeps_source_hashes(tmp_path: Path) -> None:
    rd = sample_run(tmp_path / "runs")
    res = build_bundle([rd], tmp_path / "out", redact="none", extra_secrets=[Secret("EnablePlain77")])
    got = members(res.path)
    assert b"EnablePlain77" not in b"".join(got.values())
    assert res.manifest["redaction"]["profile"] is None
    assert res.redaction_counts == {"collector-credential": 2}
    step = res.manifest["runs"][0]["steps"][0]
    assert step["source_sha256"] == step["sha256"]  # nothing changed, so the bundled file is the source file
    assert "Redaction: OFF" in got["README.txt"].decode()


def test_bad_inputs(tmp_path: Path) -> None:
    with pytest.raises(CollectorError):
        build_bundle([tmp_path], tmp_path / "out")
    with pytest.raises(BundleError):
        build_bundle([], tmp_path / "out")
    rd = sample_run(tmp_path / "runs")
    with pytest.raises(BundleError):
        build_bundle([rd], tmp_path / "out", compression="zip")  # type: ignore[arg-type]
    assert not list((tmp_path / "out").glob(".*staging*"))


MEM_SCRIPT = textwrap.dedent("""
    import resource, sys, time
    from pathlib import Path
    from collector.sim.showtech import show_tech
    from tests.corpus.make_run import RunSpec, StepSpec, make_run
    from collector.bundle import build_bundle
    size, tmp = int(sys.argv[1]), Path(sys.argv[2])
    start = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    secret = Path("tests/corpus/ios-router.txt").read_bytes()
    src = tmp / "tech.txt"
    with src.open("wb") as fh:
        for i, piece in enumerate(show_tech(size)):
            fh.write(piece)
            if i % 64 == 0:
                fh.write(secret)
    rd = make_run(tmp / "runs", RunSpec(steps=[StepSpec("show tech-support", src)], chunk_size=1 << 20))
    t = time.monotonic()
    res = build_bundle([rd], tmp / "out")
    took = time.monotonic() - t
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(start, after, took, src.stat().st_size, sum(res.redaction_counts.values()))
""")


def _memory_growth(tmp_path: Path, size: int) -> tuple[int, float, int]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", MEM_SCRIPT, str(size), str(tmp_path)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=600, check=True)
    start, after, took, step_bytes, redactions = done.stdout.split()
    assert int(step_bytes) >= size and int(redactions) > 0
    return (int(after) - int(start)) * 1024, float(took), int(step_bytes)


def test_bundle_memory_is_flat_30mb(tmp_path: Path) -> None:
    growth, took, _ = _memory_growth(tmp_path, 30_000_000)
    assert growth < 48 * 1024 * 1024, f"peak RSS grew by {growth / 2**20:.1f} MiB"


@pytest.mark.slow
def test_bundle_memory_is_flat_200mb(tmp_path: Path) -> None:
    t = time.monotonic()
    growth, took, size = _memory_growth(tmp_path, 200_000_000)
    print(f"200 MB step: bundle {took:.1f}s, peak RSS growth {growth / 2**20:.1f} MiB, "
          f"total {time.monotonic() - t:.1f}s")
    assert growth < 48 * 1024 * 1024, f"peak RSS grew by {growth / 2**20:.1f} MiB"


def test_torn_chunk_after_a_crash_and_captures_are_bundled(tmp_path: Path) -> None:
    from collector.store import RunDir

    rd_path = make_run(tmp_path / "runs", RunSpec(steps=[StepSpec("show clock", b"10:00\n")], chunk_size=1 << 20))
    rd = RunDir.open(rd_path)
    stream = rd.raw_stream(chunk_size=1 << 20)
    stream.append(b"R1#debug ip ospf\r\nenable secret 0 TornSecret55\r\n")  # never sealed: the process "dies"
    os.close(stream._fd)
    rd.raw_stream(chunk_size=1 << 20).close()  # reopening recovers the torn chunk into the index
    cap = rd.captures_dir / "ospf-debug"
    cap.mkdir(parents=True)
    (cap / "part-0001.log").write_bytes(b"12:00:01 neighbor 10.0.0.2 key-string 7 0835495D1D4A\n")
    res = build_bundle([rd_path], tmp_path / "out", include_raw=True)
    got = members(res.path)
    raw = got["runs/01-br-rtr-01/raw/transcript.raw"]
    assert b"R1#debug ip ospf" in raw and b"TornSecret55" not in raw
    assert res.manifest["runs"][0]["raw"]["torn_chunks"] == ["000002.chunk.partial"]
    capture = got["runs/01-br-rtr-01/captures/ospf-debug/part-0001.log"]
    assert re.fullmatch(rb"12:00:01 neighbor 10.0.0.2 key-string 7 <redacted-secret-\d+>\n", capture)
    assert "runs/01-br-rtr-01/captures/ospf-debug/part-0001.log" in res.manifest["members"]
    assert verify_bundle(res.path).ok
