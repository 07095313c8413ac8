"""The redaction corpus: no planted secret survives, non-secret lines stay byte-identical, placeholders are stable.

Corpus: tests/corpus/*.txt (IOS, IOS-XE, NX-OS, Junos, EOS, Linux) and planted-secrets.txt (form TAB value).
"""

from __future__ import annotations

import io
import json
import re
import tarfile
from collections import Counter
from pathlib import Path

import pytest

from collector.bundle import build_bundle, verify_bundle
from collector.bundle.redact import Redactor
from collector.secrets import Secret
from tests.corpus.make_run import RunSpec, StepSpec, make_run

CORPUS = Path(__file__).resolve().parents[1] / "corpus"
FILES = sorted(p for p in CORPUS.glob("*.txt") if p.name != "planted-secrets.txt")
BLOCK_FORMS = {"pem-private-key", "pem-certificate", "ios-certificate-hex"}
PH = re.compile(rb"^\s*<redacted-secret-\d+>\s*$")
CREDENTIALS = ["CollectorLoginPw!42", "OtpCode778899"]


def planted() -> list[tuple[str, str]]:
    out = []
    for line in (CORPUS / "planted-secrets.txt").read_text().splitlines():
        if line and not line.startswith("#"):
            form, value = line.split("\t", 1)
            out.append((form, value))
    return out


def test_corpus_shape() -> None:
    items = planted()
    forms = Counter(f for f, _ in items)
    assert all(n >= 2 for n in forms.values()), forms
    for needed in ("enable-secret", "username-secret", "junos-encrypted-password", "snmp-community", "snmpv3-key",
                   "aaa-key", "ospf-key", "isis-key", "bgp-password", "key-string", "ike-psk", "wifi-psk",
                   "pem-private-key", "pem-certificate", "ios-certificate-hex", "shadow-hash"):
        assert forms[needed] >= 2, needed
    blob = b"".join(p.read_bytes() for p in FILES)
    for _, value in items:
        assert value.encode() in blob, value
    names = {p.name.split("-")[0] for p in FILES}
    assert {"ios", "iosxe", "nxos", "junos", "eos", "linux"} <= names


def redact_corpus() -> tuple[Redactor, dict[str, bytes]]:
    r = Redactor()
    for p in FILES:
        with p.open("rb") as fh:
            r.learn(fh)
    outs = {}
    for p in FILES:
        dst = io.BytesIO()
        with p.open("rb") as fh:
            r.stream(fh, dst)
        outs[p.name] = dst.getvalue()
    return r, outs


def test_no_planted_secret_survives_and_other_lines_are_identical() -> None:
    r, outs = redact_corpus()
    items = planted()
    block_values = {v.encode() for f, v in items if f in BLOCK_FORMS}
    values = sorted({v.encode() for f, v in items if f not in BLOCK_FORMS}, key=len, reverse=True)
    for p in FILES:
        src = p.read_bytes().split(b"\n")
        out = outs[p.name].split(b"\n")
        assert len(src) == len(out), p.name
        for a, b in zip(src, out, strict=True):
            for v in block_values | set(values):
                assert v not in b, (p.name, v)
            if a.strip() in block_values:
                assert PH.match(b), (p.name, a, b)
                continue
            expected = a
            for v in values:
                if v in expected:
                    expected = expected.replace(v, r.placeholder(v))
            assert b == expected, (p.name, a, b)


def test_same_secret_same_placeholder_across_files() -> None:
    r, outs = redact_corpus()
    ph = r.placeholder(b"Br4nchR0Comm")
    assert b"snmp-server community " + ph + b" RO 10" in outs["ios-router.txt"]
    assert outs["ios-show-snmp.txt"].count(b"Community name: " + ph) == 1
    assert outs["ios-show-snmp.txt"].count(ph) == 3
    j = r.placeholder(b"$9$JuIsisLvl.10/XxYyZz")
    assert outs["junos-config.txt"].count(j) == 1
    assert len({r.placeholder(v.encode()) for _, v in planted()}) > 100  # distinct secrets stay distinct


def test_bundle_level_scan(tmp_path: Path) -> None:
    """Every member of a bundle of the whole corpus (raw transcript and manifest included) is free of secrets."""
    runs = tmp_path / "runs"
    by_platform: dict[str, list[Path]] = {}
    for p in FILES:
        by_platform.setdefault(p.name.split("-")[0], []).append(p)
    dirs = []
    for platform, files in sorted(by_platform.items()):
        steps = [StepSpec(f"show {f.stem}", f.read_bytes()) for f in files]
        if platform == "linux":
            steps.append(StepSpec("history", f"sshpass -p {CREDENTIALS[0]} ssh ops@jump\nOTP {CREDENTIALS[1]}\n"
                                  .encode(), interrupted_first=True))
            steps.append(StepSpec("grep Br4nchTrapComm /var/log/snmp.log", b"no match\n"))
        dirs.append(make_run(runs, RunSpec(target=f"ssh://ops@{platform}-dev", prompt=f"{platform}-dev#",
                                           platform=platform, steps=steps, chunk_size=4096)))
    res = build_bundle(dirs, tmp_path / "out", case="SR1", extra_secrets=[Secret(c) for c in CREDENTIALS],
                       include_raw=True)
    assert verify_bundle(res.path).ok
    with tarfile.open(res.path) as tar:
        data = {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}  # type: ignore[union-attr]
    assert any(n.endswith("raw/transcript.raw") for n in data) and any(n.endswith("manifest.json") for n in data)
    everything = b"".join(data.values()) + res.sha256_path.read_bytes()
    survivors = [v for _, v in planted() if v.encode() in everything] + [c for c in CREDENTIALS if c.encode()
                                                                         in everything]
    assert survivors == []
    lowered = everything.lower()  # step file names are lower-cased slugs of the command
    assert [v for _, v in planted() if len(v) > 6 and v.lower().encode() in lowered] == []
    # non-secret lines of the step files are byte-identical inside the bundle too
    secret_values = [v.encode() for _, v in planted()]
    for p in FILES:
        member = next(v for k, v in data.items() if k.endswith(f"show-{p.stem}.txt"))
        for a, b in zip(p.read_bytes().split(b"\n"), member.split(b"\n"), strict=True):
            if not any(v in a for v in secret_values):
                assert a == b, (p.name, a, b)
    man = json.loads(next(v for k, v in data.items() if k.endswith("manifest.json")))
    assert man["redaction"]["total"] > len(planted())
    assert "grep <redacted-secret-" in json.dumps(man)
    print(f"\ncorpus bundle: {len(planted())} planted secrets, {man['redaction']['total']} replacements, "
          f"{man['redaction']['distinct']} distinct, rules: {len(man['redaction']['rules'])}")


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_each_file_alone_single_pass(path: Path) -> None:
    """Without the bundle's learning pass (e.g. the runner redacting live), each file is still clean."""
    out = Redactor().redact_bytes(path.read_bytes())
    left = [v for _, v in planted() if v.encode() in out and v.encode() in path.read_bytes()]
    assert left == []
