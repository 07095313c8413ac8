"""`platform: auto`: the detection table is platform data; fed each simulator profile's prompt and recorded outputs,
it names the right platform, says why, and sends a command only to prompts of the shape its platform has."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from collector.errors import DeviceError
from collector.platforms import AUTO, device_platforms, list_platforms, load_platform
from collector.playbook import check_command
from collector.session.command import CommandResult
from collector.session.detect import candidates_for, detect
from collector.sim.device import SimDevice
from collector.sim.profile import TRANSCRIPTS_ROOT, DeviceProfile
from collector.sim.session import SimSession

PROFILES = sorted(p.name for p in TRANSCRIPTS_ROOT.iterdir() if (p / "device.yaml").is_file())
#: the cisco_ios profile is an ISR 4331: its `show version` says IOS XE, which is what detection must say
EXPECTED = {"cisco_ios": "cisco_xe"}


class _Chan:
    def sendall(self, data: bytes) -> None: ...

    def recv(self, n: int) -> bytes:
        return b""


def prompt_of(profile: DeviceProfile) -> str:
    sess = SimSession(SimDevice(profile), _Chan(), profile.login.username)  # type: ignore[arg-type]
    return sess.prompt().rstrip()


def runner(dev: SimDevice, sent: list[str]):  # type: ignore[no-untyped-def]
    def run(command: str) -> tuple[CommandResult, bytes]:
        sent.append(command)
        out = dev.output_of(command)
        data = b"".join(out) if out is not None else b"% Invalid input detected at '^' marker.\n"
        return CommandResult(command=command, raw_start=0, raw_end=0), data

    return run


@pytest.mark.parametrize("name", PROFILES)
def test_each_profile_is_detected_as_its_platform(name: str) -> None:
    profile = DeviceProfile.load(name)
    dev = SimDevice(profile)
    sent: list[str] = []
    found = detect(prompt_of(profile), runner(dev, sent))
    assert found.platform == EXPECTED.get(name, profile.platform)
    assert found.reason and found.platform in found.candidates
    spec = load_platform(found.platform).detect
    assert spec is not None
    if spec.prompt and re.search(spec.prompt, found.prompt, re.M):
        assert sent == [] and "prompt" in found.reason  # the prompt's shape alone decided
    else:
        assert sent and sent[-1] == spec.command and spec.command in found.reason
        assert found.tried[-1]["matched"] != "none"
    # only platforms whose prompt shape fits were ever asked
    shapes = {load_platform(n).detect.command for n in found.candidates if load_platform(n).detect}  # type: ignore
    assert set(sent) <= shapes


def test_no_command_is_sent_to_a_prompt_no_platform_has() -> None:
    sent: list[str] = []
    with pytest.raises(DeviceError, match="could not detect") as info:
        detect("~~~ weird ~~~", runner(SimDevice(DeviceProfile.load("cisco_ios")), sent))
    assert sent == [] and "--platform" in info.value.hint


def test_an_unrecognised_version_fails_cleanly_after_trying() -> None:
    sent: list[str] = []

    def run(command: str) -> tuple[CommandResult, bytes]:
        sent.append(command)
        return CommandResult(command=command, raw_start=0, raw_end=0), b"Acme RouterOS-ish 1.0\n"

    with pytest.raises(DeviceError, match="show version"):
        detect("R1#", run)
    assert "show version" in sent and len(sent) == len(set(sent))  # each command once


@pytest.mark.parametrize("name", device_platforms())
def test_detection_commands_are_read_only_on_their_platform(name: str) -> None:
    platform = load_platform(name)
    assert platform.detect is not None, f"{name} has no detect: section"
    assert check_command(platform.detect.command, platform).allowed


def test_candidates_follow_the_prompt_shape() -> None:
    every = [load_platform(n) for n in device_platforms()]
    assert {p.name for p in candidates_for("FGT60F #", every)} == {"fortinet", "linux"}
    assert "huawei" in {p.name for p in candidates_for("<HUAWEI>", every)}
    assert "cisco_ios" not in {p.name for p in candidates_for("[admin@MikroTik] >", every)}


def test_auto_is_a_platform_built_from_the_others() -> None:
    assert AUTO in list_platforms() and AUTO not in device_platforms()
    auto = load_platform(AUTO)
    assert auto.read_only.unknown == "refuse" and not auto.read_only.verbs.allow
    for name in device_platforms():
        p = load_platform(name)
        for pattern in p.paging_patterns:
            assert pattern in auto.paging_patterns
        for reply in p.login.replies:
            assert reply in auto.login.replies


_HOST = st.from_regex(r"[A-Za-z][A-Za-z0-9\-]{0,14}[A-Za-z0-9]", fullmatch=True)


@given(host=_HOST, name=st.sampled_from([n for n in PROFILES if n != "linux"]))
def test_profile_prompts_fit_their_platform_and_auto_for_any_hostname(host: str, name: str) -> None:
    profile = DeviceProfile.load(name, hostname=host)
    prompt = prompt_of(profile)
    platform = load_platform(profile.platform)
    assert re.fullmatch(platform.prompt_pattern, prompt), (name, prompt)
    assert re.fullmatch(load_platform(AUTO).prompt_pattern, prompt)


@pytest.mark.parametrize("name", PROFILES)
def test_each_profiles_outputs_name_its_platform_without_a_tie(name: str) -> None:
    """Any platform whose detection patterns also match this device's outputs ranks below the right one (a tie at
    the same priority would be decided by list order, not by the device)."""
    dev = SimDevice(DeviceProfile.load(name))
    want = load_platform(EXPECTED.get(name, dev.profile.platform))
    assert want.detect is not None
    hits: dict[str, int] = {}
    for other in (load_platform(n) for n in device_platforms()):
        out = dev.output_of(other.detect.command) if other.detect else None
        text = b"".join(out).decode("utf-8", "replace") if out is not None else ""
        if other.detect and any(re.search(p, text, re.M) for p in other.detect.patterns):
            hits[other.name] = other.detect.priority
    assert hits.get(want.name) == want.detect.priority, (name, hits)
    assert all(prio < want.detect.priority for n, prio in hits.items() if n != want.name), (name, hits)


@pytest.mark.parametrize(("name", "prompt"), [("cisco_nxos", "N9K-1#"), ("juniper_junos", "admin@mx1>"),
                                              ("arista_eos", "leaf1>")])
def test_older_platforms_are_told_by_show_version_not_by_prompt(name: str, prompt: str) -> None:
    profile = DeviceProfile.load(name)
    assert prompt_of(profile) == prompt
    sent: list[str] = []
    found = detect(prompt, runner(SimDevice(profile), sent))
    assert found.platform == name and sent[-1] == "show version" and "show version" in found.reason
    assert len(found.candidates) > 1  # the prompt's shape alone could not tell
