"""Parsing one output: recorded simulator outputs, parser choice (auto/textfsm/ttp/genie/none), failures as reasons,
the size limit, and block-wise TextFSM equal to a whole-text parse."""

from __future__ import annotations

import sys
import types
from pathlib import Path
from urllib.parse import unquote

import pytest
import textfsm
from hypothesis import given, settings
from hypothesis import strategies as st

from benchmarks.parse_bench import bgp_table
from collector.parse.engine import ListSink, Output, parse_output
from collector.parse.ntc_index import find_template, template_dir
from collector.parse.textfsm_parser import blocks

ROOT = Path(__file__).resolve().parents[2]
TRANSCRIPTS = ROOT / "transcripts"
FIXTURES = ROOT / "tests" / "corpus" / "parse"

#: every recorded simulator output: (profile, command) -> (template or None, records)
RECORDED = {
    ("cisco_ios", "show clock"): ("cisco_ios_show_clock.textfsm", 1),
    ("cisco_ios", "show interfaces gigabitethernet0/0/1"): ("cisco_ios_show_interfaces.textfsm", 1),
    ("cisco_ios", "show inventory"): ("cisco_ios_show_inventory.textfsm", 7),
    ("cisco_ios", "show ip interface brief"): ("cisco_ios_show_ip_interface_brief.textfsm", 4),
    ("cisco_ios", "show ip ospf interface gigabitethernet0/0/1"): (None, 0),
    ("cisco_ios", "show ip ospf neighbor"): ("cisco_ios_show_ip_ospf_neighbor.textfsm", 2),
    ("cisco_ios", "show ip route"): ("cisco_ios_show_ip_route.textfsm", 7),
    ("cisco_ios", "show logging"): ("cisco_ios_show_logging.textfsm", 1),
    ("cisco_ios", "show processes cpu"): ("cisco_ios_show_processes_cpu.textfsm", 18),
    ("cisco_ios", "show running-config"): (None, 0),
    ("cisco_ios", "show version"): ("cisco_ios_show_version.textfsm", 1),
    ("linux", "cat /proc/cpuinfo"): (None, 0),
    ("linux", "df -h"): (None, 0),
    ("linux", "ip addr"): ("linux_ip_address_show.textfsm", 2),
    ("linux", "uname -a"): (None, 0),
}


def recorded(profile: str, command: str) -> Path:
    for p in (TRANSCRIPTS / profile).glob("*.txt"):
        if unquote(p.stem) == command:
            return p
    raise FileNotFoundError(command)


def test_every_table_entry_is_a_recorded_output() -> None:
    on_disk = {(d.name, unquote(p.stem)) for d in TRANSCRIPTS.iterdir() if d.is_dir() for p in d.glob("*.txt")}
    assert set(RECORDED) <= on_disk


def test_every_other_recorded_output_parses_with_its_real_template_or_says_why_not() -> None:
    """Every platform's recorded-style outputs: where ntc-templates has a template it reads records from them (the
    simulator's outputs have the real shape) or the run records why it did not; no template: said so."""
    parsed, rejected = 0, []
    for d in sorted(TRANSCRIPTS.iterdir()):
        if not d.is_dir():
            continue
        for path in sorted(d.glob("*.txt")):
            command, sink = unquote(path.stem), ListSink()
            if (d.name, command) in RECORDED:
                continue
            out = parse_output(d.name, command, Output(path=path), sink, "textfsm")
            if "the template rejected" in (out.reason or ""):  # refused by its template: a reason, never an exception
                assert out.parser is None and not sink.records, (d.name, command, out.reason)
                rejected.append((d.name, command))
            elif out.template is None:  # no template, or a filtered output (templates describe whole outputs)
                assert out.parser is None and out.reason, (d.name, command)
                assert "no ntc-templates template" in out.reason or "the output was filtered" in out.reason
            else:  # parsed: the count in the manifest is what the sink got (zero is a count, e.g. `show interfaces
                # stats` found by the index's `show interfaces` entry, as netmiko would find it)
                assert out.parser == "textfsm" and len(sink.records) == out.records, (d.name, command)
                parsed += bool(sink.records)
    assert parsed >= 30 and len(rejected) <= 20, rejected


@pytest.mark.parametrize(("profile", "command"), sorted(RECORDED))
def test_recorded_simulator_outputs(profile: str, command: str) -> None:
    sink = ListSink()
    out = parse_output(profile, command, Output(path=recorded(profile, command)), sink, "textfsm")
    want_template, want_records = RECORDED[(profile, command)]
    assert out.template == want_template, out.reason
    assert len(sink.records) == want_records == (out.records or 0)
    if want_template is None:
        assert out.parser is None and "no ntc-templates template" in (out.reason or "")


def test_recorded_values() -> None:
    sink = ListSink()
    parse_output("cisco_ios", "sh ver", Output(path=recorded("cisco_ios", "show version")), sink)
    (version,) = sink.records
    assert version["hostname"] == "R1" and version["version"] == "17.9.4a"
    sink = ListSink()
    parse_output("cisco_ios", "sh ip int br", Output(path=recorded("cisco_ios", "show ip interface brief")), sink)
    assert [r["interface"] for r in sink.records] == ["GigabitEthernet0/0/0", "GigabitEthernet0/0/1",
                                                      "GigabitEthernet0/0/2", "Loopback0"]
    assert sink.records[2]["status"] == "administratively down"
    sink = ListSink()
    parse_output("linux", "ip addr", Output(path=recorded("linux", "ip addr")), sink)
    assert [r["interface"] for r in sink.records] == ["lo", "ens18"]


def test_none_skips_and_says_so() -> None:
    out = parse_output("cisco_ios", "show version", Output(text="x\n"), ListSink(), "none")
    assert out.parser is None and out.reason is not None and "parse: none" in out.reason


def test_auto_says_why_each_parser_had_nothing() -> None:
    out = parse_output("cisco_ios", "show running-config", Output(text="hostname R1\n"), ListSink())
    reason = out.reason or ""
    assert "textfsm: no ntc-templates template" in reason
    assert "ttp: no ttp-templates template" in reason
    assert "genie: genie is not installed" in reason


def test_an_explicit_parser_that_is_not_installed_is_the_recorded_reason() -> None:
    out = parse_output("cisco_ios", "show version", Output(path=recorded("cisco_ios", "show version")), ListSink(),
                       "genie")
    assert out.parser is None and out.reason == "genie: genie is not installed (pip install pyats genie)"


def test_ttp_when_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    sink = ListSink()
    out = parse_output("cisco_ios", "show inventory", Output(path=recorded("cisco_ios", "show inventory")), sink,
                       "ttp")
    assert out.parser == "ttp" and out.template == "cisco_ios_show_inventory.txt" and out.records == len(sink.records)
    assert {"serial": "FDO21520TGH"}.items() <= sink.records[0].items()
    monkeypatch.setitem(sys.modules, "ttp", None)  # not installed: the reason, never an ImportError
    out = parse_output("cisco_ios", "show inventory", Output(text="x\n"), ListSink(), "ttp")
    assert out.reason == "ttp: ttp is not installed (pip install ttp ttp-templates)"


def _index_without(tmp_path: Path, command_word: str) -> Path:
    """A template dir whose index lacks one command (so auto must look further)."""
    src = template_dir()
    lines = [line for line in (src / "index").read_text().splitlines() if command_word not in line]
    (tmp_path / "index").write_text("\n".join(lines) + "\n")
    for t in src.glob("cisco_ios_show_*.textfsm"):
        (tmp_path / t.name).symlink_to(t)
    return tmp_path


def test_auto_falls_back_to_ttp_then_genie(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NTC_TEMPLATES_DIR", str(_index_without(tmp_path, "cisco_ios_show_inventory")))
    path = recorded("cisco_ios", "show inventory")
    out = parse_output("cisco_ios", "sh inventory", Output(path=path), ListSink())
    assert out.parser == "ttp" and out.notes and out.notes[0].startswith("textfsm: no ntc-templates template")
    # without ttp, an installed Genie answers
    monkeypatch.setitem(sys.modules, "ttp", None)
    _fake_genie(monkeypatch)
    sink = ListSink()
    out = parse_output("cisco_ios", "sh inventory", Output(path=path), sink)
    assert out.parser == "genie" and out.template == "ShowInventory"
    assert sink.records == [{"lines": len(path.read_text().splitlines())}]


def _fake_genie(monkeypatch: pytest.MonkeyPatch) -> None:
    """A stand-in for Genie's public API (Device(...).parse and get_parser), to test our adapter."""

    class ShowInventory:
        pass

    class Device:
        def __init__(self, name: str, os: str) -> None:
            self.os, self.custom = os, {}

        def parse(self, command: str, output: str) -> dict[str, int]:
            assert self.os == "ios" and command == "show inventory"
            return {"lines": len(output.splitlines())}

    def get_parser(command: str, device: Device) -> tuple[type, dict[str, str]]:
        if command != "show inventory":
            raise Exception(f"Could not find parser for {command}")
        return ShowInventory, {}

    base, utils = types.ModuleType("genie.conf.base"), types.ModuleType("genie.libs.parser.utils")
    base.Device = Device  # type: ignore[attr-defined]
    utils.get_parser = get_parser  # type: ignore[attr-defined]
    for name in ("genie", "genie.conf", "genie.libs", "genie.libs.parser"):
        monkeypatch.setitem(sys.modules, name, types.ModuleType(name))
    monkeypatch.setitem(sys.modules, "genie.conf.base", base)
    monkeypatch.setitem(sys.modules, "genie.libs.parser.utils", utils)


def test_a_rejected_output_is_a_reason_not_an_error() -> None:
    sink = ListSink()
    path = FIXTURES / "cisco_ios" / "show processes cpu rejected.txt"
    out = parse_output("cisco_ios", "show processes cpu", Output(path=path), sink, "textfsm")
    assert out.parser is None and sink.records == []
    assert (out.reason or "").startswith("textfsm: the template rejected the output")
    assert "MALLOCFAIL" in (out.reason or "")


def test_a_parser_bug_never_escapes() -> None:
    class Broken(ListSink):
        def emit(self, record: object) -> None:
            raise RuntimeError("disk on fire")

    out = parse_output("cisco_ios", "show version", Output(path=recorded("cisco_ios", "show version")), Broken())
    assert out.parser is None and out.reason == "parser error: RuntimeError: disk on fire"


def test_piped_output_is_not_parsed() -> None:
    out = parse_output("cisco_ios", "show ip int br | include up", Output(text="x\n"), ListSink())
    assert out.reason == "the output was filtered (| include up): templates describe the whole output"


def test_outputs_above_the_size_limit_are_skipped_with_a_note() -> None:
    text = recorded("cisco_ios", "show ip route").read_text()
    sink = ListSink()
    out = parse_output("cisco_ios", "show ip route", Output(text=text), sink, max_bytes=len(text) - 1)
    assert out.parser is None and sink.records == []
    assert out.reason == f"output of {len(text):,} bytes is above the parse limit of {len(text) - 1:,} bytes " \
                         "(parse_max_size)"
    assert parse_output("cisco_ios", "show ip route", Output(text=text), ListSink(), max_bytes=len(text)).ok


def _whole(text: str) -> list[dict[str, str]]:
    match = find_template("cisco_ios", "show ip bgp")
    with (match.template_dir / match.templates[0]).open() as fh:
        fsm = textfsm.TextFSM(fh)
    header = [h.lower() for h in fsm.header]
    return [dict(zip(header, row, strict=True)) for row in fsm.ParseText(text)]


def test_block_wise_parse_equals_a_whole_text_parse(tmp_path: Path) -> None:
    text = bgp_table(3 << 20, seed=7)  # three blocks and a bit
    path = tmp_path / "bgp.txt"
    path.write_text(text)
    sink = ListSink()
    out = parse_output("cisco_ios", "sh ip bgp", Output(path=path), sink)
    assert out.parser == "textfsm" and out.records and out.records > 30_000
    assert sink.records == _whole(text)


@settings(max_examples=40, deadline=None)
@given(st.integers(min_value=1, max_value=400), st.integers(min_value=0, max_value=2**31))
def test_any_block_size_gives_the_same_records(size: int, seed: int) -> None:
    text = bgp_table(3_000, seed=seed)
    pieces = list(blocks(text, size))
    assert "".join(pieces) == text and all(p.endswith("\n") for p in pieces[:-1])
    from collector.parse.textfsm_parser import parse

    got: list[dict[str, str]] = []
    parse(find_template("cisco_ios", "show ip bgp"), pieces, got.append)
    assert got == _whole(text)
