"""Properties of dial-in recovery's pure parts, with generated inputs: sections in a cut output, the section list
as device text (never a command unless it is a plain read-only show command), cut trimming, ETA, the sim layout.
"""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from collector.platforms import load_platform
from collector.playbook.guard import check_command
from collector.runner import sections
from collector.runner.linestats import eta_seconds
from collector.runner.staging import trim_cut
from collector.sim.device import SimDevice
from collector.sim.profile import TRANSCRIPTS_ROOT, DeviceProfile
from collector.sim.showtech import SEPARATOR, tech_layout

IOS = load_platform("cisco_ios")
SPEC = IOS.composite_commands[0]


def _whole(total: int) -> tuple[bytes, list[str]]:
    layout = tech_layout(total)
    return b"".join(layout.chunks()), [s.title for s in layout.sections]


@settings(max_examples=60, deadline=None)
@given(total=st.integers(2_000, 120_000), cut=st.floats(0, 1),
       junk=st.sampled_from([b"", b"\r\nNO CARRIER\r\n", b"\x00~"]))
def test_only_complete_sections_of_a_cut_output_are_kept(total: int, cut: float, junk: bytes) -> None:
    whole, titles = _whole(total)
    at = int(cut * len(whole))
    ranges = sections.received_sections(whole[:at] + junk, SPEC, titles)
    layout = tech_layout(total)
    ends = []
    pos = 0
    for s in layout.sections:
        pos += len(SEPARATOR.format(title=s.title)) + s.size
        ends.append(pos)
    complete = sum(1 for k in range(len(titles) - 1) if ends[k] + len(sections.separator(SPEC, titles[k + 1])) <= at)
    assert len(ranges) == complete
    for k, (a, b) in enumerate(ranges):
        assert whole[a:b] == sections.separator(SPEC, titles[k]) + layout.output(titles[k])  # type: ignore[operator]


@settings(max_examples=200, deadline=None)
@given(title=st.text(min_size=1, max_size=80))
def test_a_listed_section_becomes_a_command_only_when_it_is_a_plain_read_only_show_command(title: str) -> None:
    listing = f"------------------ show {title} ------------------\n".encode("utf-8", "surrogatepass")
    commands = sections.section_commands(listing, SPEC)
    if sections.unusable(commands, SPEC, IOS) is None:
        for command in commands:
            assert sections.SAFE_COMMAND.match(command) and check_command(command, IOS).allowed
            assert "|" not in command and not any(ord(c) < 32 for c in command)


def test_hostile_or_odd_headers_are_refused() -> None:
    for header in ("show run | redirect flash:x", "show tech-support", "show version; reload",
                   "show \x1b[2Jversion", "show clock > flash:x", "show tech", "show " + "x" * 300):
        listing = f"------------------ {header} ------------------\n".encode()
        commands = sections.section_commands(listing, SPEC)
        assert sections.unusable(commands, SPEC, IOS) is not None, header
    assert sections.unusable([], SPEC, IOS) == "the device listed no sections"
    assert sections.unusable(["show clock", "show version"], SPEC, IOS) is None


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=6000))
def test_a_cut_fetch_loses_its_end_and_keeps_whole_lines(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "cut"
    path.write_bytes(data)
    kept = trim_cut(path, margin=512)
    assert kept == path.stat().st_size and data.startswith(path.read_bytes())
    assert kept <= max(0, len(data) - 512) and (kept == 0 or path.read_bytes().endswith(b"\n"))


@given(remaining=st.integers(0, 10**7), rate=st.floats(10, 1e6), drops=st.integers(0, 50),
       interval=st.floats(1, 600), redial=st.floats(0, 60), lost=st.floats(0, 1e5))
def test_eta_is_the_transfer_time_plus_what_drops_cost(remaining: int, rate: float, drops: int, interval: float,
                                                       redial: float, lost: float) -> None:
    eta = eta_seconds(remaining, rate, drops, interval, redial, lost)
    assert eta is not None and eta >= remaining / rate - 1e-9
    assert eta_seconds(0, rate, drops, interval, redial, lost) == 0
    if drops == 0:
        assert eta == remaining / rate
    assert eta_seconds(remaining + 1000, rate, drops, interval, redial, lost) >= eta  # type: ignore[operator]
    assert eta_seconds(remaining, None, drops, interval, redial, lost) is None


TECH_PROFILES = sorted(p.name for p in TRANSCRIPTS_ROOT.iterdir() if (p / "device.yaml").is_file())


@settings(max_examples=15, deadline=None)
@given(total=st.integers(256, 400_000), seed=st.integers(1, 5))
def test_every_section_of_the_simulated_show_tech_runs_alone(total: int, seed: int) -> None:
    checked = 0
    for name in TECH_PROFILES:  # every profile: its recorded outputs are the sections of the same name
        device = SimDevice(DeviceProfile.load(name, show_tech_bytes=total, seed=seed))
        layout = device.tech()
        if layout is None:
            continue
        whole = b"".join(device.expected_output("show tech-support"))
        assert len(whole) == total
        parts = b"".join(SEPARATOR.format(title=s.title).encode() + b"".join(device.expected_output(s.title))
                         for s in layout.sections)
        assert parts == whole, name
        checked += 1
    assert checked >= 1
