"""Parsed outputs in bundles: carried, listed in the manifest, redacted and pseudonymised like the text."""

from __future__ import annotations

import json
import re
import tarfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from collector.bundle import build_bundle, verify_bundle
from collector.bundle.parsed import NOT_PARSED, secret_field
from collector.parse.files import RecordWriter
from collector.parse.run import parse_run
from tests.corpus.make_run import RunSpec, StepSpec, make_run

ROOT = Path(__file__).resolve().parents[2]
FIX = ROOT / "tests" / "corpus" / "parse" / "cisco_ios"
IOS = ROOT / "transcripts" / "cisco_ios"
PLACEHOLDER = re.compile(r"<redacted-secret-\d+>")


def members(path: Path) -> dict[str, bytes]:
    with tarfile.open(path) as tar:
        return {m.name.split("/", 1)[1]: tar.extractfile(m).read()  # type: ignore[union-attr]
                for m in tar.getmembers() if m.isfile()}


def run_with(tmp: Path, parse: bool = True) -> Path:
    rd = make_run(tmp / "runs", RunSpec(steps=[
        StepSpec("show snmp community", (FIX / "show snmp community.txt").read_bytes()),
        StepSpec("sh ip int br", (FIX / "show ip interface brief.txt").read_bytes()),
        StepSpec("show version", (IOS / "show version.txt").read_bytes()),
        StepSpec("show running-config", (IOS / "show running-config.txt").read_bytes()),
    ]))
    if parse:
        parse_run(rd)
    return rd


def records(doc: bytes) -> list[dict[str, str]]:
    return json.loads(doc)["records"]


def test_parsed_files_are_carried_listed_and_verified(tmp_path: Path) -> None:
    rd = run_with(tmp_path)
    result = build_bundle([rd], tmp_path / "out", redact=None)
    files = members(result.path)
    steps = result.manifest["runs"][0]["steps"]
    by = {s["command"]: s["parsed"] for s in steps}
    brief = by["sh ip int br"]
    assert brief["parser"] == "textfsm" and brief["template"] == "cisco_ios_show_ip_interface_brief.textfsm"
    assert brief["records"] == 4 and brief["file"] == "runs/01-br-rtr-01/parsed/002-sh-ip-int-br.json"
    assert len(records(files[brief["file"]])) == 4
    assert result.manifest["members"][brief["file"]]["sha256"] == brief["sha256"]
    assert by["show running-config"]["file"] is None and "no ntc-templates template" in \
        by["show running-config"]["reason"]
    assert result.manifest["runs"][0]["summary"]["parsed"] == 3
    assert verify_bundle(result.path).ok
    assert not any(name.endswith("index.json") for name in files)


def test_a_run_that_was_never_parsed_says_so(tmp_path: Path) -> None:
    rd = run_with(tmp_path, parse=False)
    result = build_bundle([rd], tmp_path / "out")
    assert {s["parsed"]["reason"] for s in result.manifest["runs"][0]["steps"]} == {NOT_PARSED}
    assert not any("/parsed/" in m for m in result.manifest["members"])


def test_parsed_secrets_get_the_texts_placeholders(tmp_path: Path) -> None:
    rd = run_with(tmp_path)
    result = build_bundle([rd], tmp_path / "out")
    files = members(result.path)
    prefix = "runs/01-br-rtr-01"
    text = files[f"{prefix}/steps/001-show-snmp-community.txt"].decode()
    parsed = files[f"{prefix}/parsed/001-show-snmp-community.json"].decode()
    for secret in ("Br4nchR0Comm", "73519"):
        assert secret not in text and secret not in parsed
    text_ph = re.findall(r"Community name: (<redacted-secret-\d+>)", text)
    assert [r["name"] for r in json.loads(parsed)["records"]] == text_ph  # same value, same placeholder
    assert all(r["index"] == r["name"] == r["security_name"] for r in json.loads(parsed)["records"])
    assert "source_sha256" not in json.loads(parsed)["meta"]  # a hash of unredacted text is not carried


def test_parsed_addresses_and_names_get_the_texts_pseudonyms(tmp_path: Path) -> None:
    rd = run_with(tmp_path)
    result = build_bundle([rd], tmp_path / "out", anonymize={"ips", "hostnames"}, map_dir=tmp_path / "maps")
    files = members(result.path)
    prefix = result.manifest["runs"][0]["dir"]
    text = files[f"{prefix}/steps/002-sh-ip-int-br.txt"].decode()
    parsed = records(files[f"{prefix}/parsed/002-sh-ip-int-br.json"])
    for real in ("84.17.33.66", "10.20.30.1", "10.255.0.1"):
        assert real not in text and all(real not in json.dumps(r) for r in parsed)
    text_ips = re.findall(r"^\S+\s+(\S+)\s+YES", text, re.M)
    assert [r["ip_address"] for r in parsed] == text_ips  # the same map for text and parsed data
    private = json.loads(Path(str(result.map_path)).read_text())
    assert private["ipv4"]["84.17.33.66"] == parsed[0]["ip_address"]
    version = records(files[f"{prefix}/parsed/003-show-version.json"])[0]
    assert version["hostname"] != "R1" and version["hostname"] in files[f"{prefix}/steps/003-show-version.txt"].decode()


def test_secret_field_names() -> None:
    for name in ("password", "enable_secret", "snmp_community", "pre_shared_key", "authentication_key", "PSK",
                 "authKey", "key", "tacacs_keys", "community_string"):
        assert secret_field(name), name
    for name in ("key_id", "keepalive", "interface", "hostname", "key_chain_name", "monkey_count"):
        assert not secret_field(name), name


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126, exclude_characters="<>\"\\"),
               min_size=1, max_size=24),
       st.sampled_from(["password", "enable_secret", "snmp_community", "pre_shared_key"]))
def test_a_secret_named_field_never_leaves_in_the_clear(tmp_path: Path, secret: str, field: str) -> None:
    case = tmp_path / f"c{abs(hash((secret, field)))}"
    rd = run_with(case, parse=False)
    writer = RecordWriter(rd / "parsed" / "001-show-snmp-community.json")
    writer.emit({"interface": "Gi0/1", field: secret})
    writer.finish({"parser": "fixture"})
    result = build_bundle([rd], case / "out")
    doc = json.loads(members(result.path)["runs/01-br-rtr-01/parsed/001-show-snmp-community.json"])
    (record,) = doc["records"]
    assert PLACEHOLDER.fullmatch(record[field]) and record["interface"] == "Gi0/1"
    assert result.manifest["redaction"]["rules"]["parsed-secret-field"] >= 1


def test_a_foreign_parsed_file_is_cleaned_as_text(tmp_path: Path) -> None:
    rd = run_with(tmp_path, parse=False)
    (rd / "parsed").mkdir()
    (rd / "parsed" / "001-show-snmp-community.json").write_text('[{"name": "Br4nchR0Comm"}]\n')
    files = members(build_bundle([rd], tmp_path / "out").path)
    assert b"Br4nchR0Comm" not in files["runs/01-br-rtr-01/parsed/001-show-snmp-community.json"]
