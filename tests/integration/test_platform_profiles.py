"""Every new platform against its simulator profile, over SSH and Telnet, with the real Runner: login, paging switched
off (and the pager prompt answered when it is not), an error marker, refused configuration verbs, debug switched off.

Outputs are compared by SHA-256 with the simulator's source; what reached the device is read from its event log.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from collector.errors import GuardRefused
from collector.platforms import Platform, load_platform
from collector.playbook import check_command, check_playbook, load_playbook
from collector.runner.runner import RunOutcome
from collector.sim.device import SimDevice
from collector.sim.events import EventLog
from collector.sim.profile import DeviceProfile
from collector.sim.session import SimSession
from collector.sim.terminal import erase_bytes
from tests.helpers.platform_rig import rig, run_steps, show_steps

# platform -> a command that errors, its configuration/commit/reboot/file-write/shell-escape verbs, a debug-on line
CASES: dict[str, dict[str, object]] = {
    "cisco_xr": {"bad": "show nonsense-xyz", "debug": ["debug ospf 1 adj"],
                 "refused": ["configure terminal", "commit", "reload location all",
                             "copy running-config harddisk:/x.cfg", "run ls /", "show logging | file harddisk:/x"]},
    "cisco_asa": {"bad": "show nonsense-xyz", "debug": ["terminal monitor", "debug crypto ikev2 protocol 127"],
                  "refused": ["configure terminal", "write memory", "reload", "copy running-config disk0:/x.cfg",
                              "failover active", "show running-config | redirect disk0:/x.cfg"]},
    "cisco_wlc": {"bad": "show nonsense-xyz", "debug": ["debug client 00:11:22:33:44:55"],
                  "refused": ["config wlan disable 1", "save config", "reset system", "transfer upload start",
                              'grep include x "config wlan disable 1"']},
    "paloalto_panos": {"bad": "show nonsense-xyz", "debug": ["debug ike global on debug"],
                       "refused": ["configure", "commit", "request restart system",
                                   "scp export configuration to a@198.51.100.9:/", "set deviceconfig system timezone X",
                                   "tail follow yes mp-log ikemgr.log"]},
    "fortinet": {"bad": "show nonsense-xyz", "debug": ["diagnose debug application ike -1", "diagnose debug enable"],
                 "refused": ["config system console", "set output standard", "execute reboot",
                             "execute backup config tftp x.conf 10.0.0.1", "fnsysctl ls", "diagnose sys kill 11 211"]},
    "hp_procurve": {"bad": "show nonsense-xyz", "debug": ["debug destination session", "debug ip ospf"],
                    "refused": ["configure terminal", "write memory", "reload", "copy running-config tftp 10.0.0.1 x",
                                "erase startup-config", "menu"]},
    "aruba_aoscx": {"bad": "show nonsense-xyz", "debug": ["debug ospfv2 all"],
                    "refused": ["configure terminal", "write memory", "boot system primary",
                                "copy running-config tftp://10.0.0.1/x vrf mgmt", "start-shell"]},
    "huawei": {"bad": "display nonsense-xyz", "debug": ["terminal debugging", "debugging ospf event"],
               "refused": ["system-view", "save", "reboot", "delete flash:/vrpcfg.zip", "undo info-center enable",
                           "screen-length 0"]},
    "dell_os10": {"bad": "show nonsense-xyz", "debug": None,
                  "refused": ["configure terminal", "write memory", "reload", "copy running-configuration scp://u@h/x",
                              "system bash", "debug ip ospf"]},
    "mikrotik_routeros": {"bad": "/nonsense-xyz print", "debug": None,
                          "refused": ["/system reboot", "/ip address add address=10.0.0.1/24 interface=ether1",
                                      "/export file=x", "/system backup save name=x", "/system script run x",
                                      "/ip route print; /system reboot", "/log print follow"]},
    "extreme_exos": {"bad": "show nonsense-xyz", "debug": None,
                     "refused": ["configure vlan Default ipaddress 10.0.0.1/24", "save configuration", "reboot",
                                 "upload configuration 10.0.0.1 x vr VR-Mgmt", "run script x.py", "debug hal"]},
    "cisco_nxos": {"bad": "show nonsense-xyz", "debug": ["terminal monitor", "debug ip ospf adjacency"],
                   "refused": ["configure terminal", "commit", "copy running-config startup-config", "reload",
                               "write erase", "copy running-config bootflash:x.cfg",
                               "show running-config > bootflash:x.cfg", "run bash ls", "guestshell"]},
    "juniper_junos": {"bad": "show nonsense-xyz", "debug": None,
                      "refused": ["configure", "edit", "commit", "set system host-name x", "request system reboot",
                                  "file copy /config/juniper.conf.gz /var/tmp/x",
                                  "show configuration | save /var/tmp/x", "start shell", "restart routing",
                                  "monitor traffic interface et-0/0/0"]},
    "arista_eos": {"bad": "show nonsense-xyz", "debug": ["terminal monitor", "debug ip ospf"],
                   "refused": ["configure terminal", "commit", "write memory", "reload",
                               "copy running-config flash:x.cfg", "show running-config > flash:x.cfg",
                               "show running-config | tee flash:x.cfg", "bash ls /", "zerotouch cancel"]},
}
TRANSPORTS = ["ssh", "telnet"]
PAGE = 6  # a short page, so every output pages unless paging is off


def version_command(name: str) -> str:
    spec = load_platform(name).detect
    assert spec is not None
    return spec.command


def raw_bytes(outcome: RunOutcome) -> bytes:
    return b"".join(p.read_bytes() for p in sorted((outcome.run_dir / "raw").glob("*.chunk")))


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def step_file(outcome: RunOutcome, command: str) -> bytes:
    rec = next(r for r in outcome.steps if r.command == command and r.kind == "show")
    assert rec.file is not None, rec
    return (outcome.run_dir / rec.file).read_bytes()


def journal(outcome: RunOutcome) -> list[dict[str, object]]:
    return [json.loads(line) for line in (outcome.run_dir / "journal.jsonl").read_text().splitlines()]


def commands(events: EventLog) -> list[str]:
    return [e["command"] for e in events.events() if e["kind"] == "command"]


def without_paging_off(p: Platform) -> Platform:
    """The platform as if it did not know how to switch paging off: only the pager prompt answers remain."""
    return p.model_copy(update={"setup_commands": [], "settings": [], "username_suffix": ""})


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("name", sorted(CASES))
def test_login_and_paging_switched_off(name: str, transport: str, tmp_path: Path) -> None:
    platform = load_platform(name)
    command = version_command(name)
    with rig(name, transport, page_length=PAGE) as r:
        outcome = run_steps(show_steps(command), platform, r.url, tmp_path)
        assert outcome.status == "ok", (outcome.status, outcome.error)
        assert sha(step_file(outcome, command)) == r.expected(command)
        pager = r.profile.cli.paging.prompt.encode()
        assert pager not in raw_bytes(outcome), "paging was not switched off"
        sent = commands(r.events)
        assert command in sent
        for cmd in platform.setup_commands:  # the session's own paging-off command reached the device
            assert cmd in sent
        if transport == "telnet" and r.profile.login.mode != "none":
            assert r.events.count("auth-ok", method="login") >= 1
        if platform.username_suffix:  # RouterOS: the page height rides in the login name
            assert r.events.count("login-options") >= 1
        for setting in platform.settings:  # a device setting was changed, journaled first, and set back
            events = [(e["event"], e.get("name")) for e in journal(outcome)]
            assert ("setting-changed", setting.name) in events and ("setting-restored", setting.name) in events
            last_restore = len(sent) - 1 - sent[::-1].index(setting.restore[0])
            assert sent.index(setting.apply[0]) < sent.index(command) < last_restore
        assert r.device.settings == r.profile.settings  # nothing left changed on the device


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("name", sorted(CASES))
def test_pager_prompt_is_answered_when_paging_stays_on(name: str, transport: str, tmp_path: Path) -> None:
    platform = without_paging_off(load_platform(name))
    command = version_command(name)
    with rig(name, transport, page_length=PAGE) as r:
        outcome = run_steps(show_steps(command), platform, r.url, tmp_path)
        assert outcome.status == "ok", (outcome.status, outcome.error)
        raw = raw_bytes(outcome)
        pager = r.profile.cli.paging.prompt.encode()
        assert raw.count(pager) >= 1, "the device did not page"
        assert erase_bytes(r.profile.cli.paging) in raw
        assert sha(step_file(outcome, command)) == r.expected(command)  # prompts and erasures removed exactly


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("name", sorted(CASES))
def test_error_marker_marks_the_step(name: str, transport: str, tmp_path: Path) -> None:
    platform = load_platform(name)
    bad = str(CASES[name]["bad"])
    with rig(name, transport) as r:
        outcome = run_steps(show_steps(bad), platform, r.url, tmp_path)
        rec = next(s for s in outcome.steps if s.command == bad)
        assert rec.status == "error" and rec.error_marker, rec
        assert platform.error_in(step_file(outcome, bad).decode()) == rec.error_marker
        assert outcome.status == "completed-with-errors"


@pytest.mark.parametrize("name", sorted(CASES))
def test_configuration_verbs_are_refused_before_anything_connects(name: str, tmp_path: Path) -> None:
    platform = load_platform(name)
    refused = [str(c) for c in CASES[name]["refused"]]  # type: ignore[union-attr]
    for command in refused:
        verdict = check_command(command, platform)
        assert not verdict.allowed, (name, command, verdict)
    book = tmp_path / "change.yaml"
    book.write_text(json.dumps({"name": "change", "platform": name, "steps": refused}))  # JSON is YAML
    loaded = load_playbook(book)
    with rig(name, "ssh") as r:
        with pytest.raises(GuardRefused) as info:
            check_playbook(loaded, platform)  # what `collector run` does before it connects
        assert len(info.value.refusals) == len(refused)  # type: ignore[attr-defined]
        assert r.events.count("connect") == 0 and commands(r.events) == []


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("name", sorted(n for n, c in CASES.items() if c["debug"]))
def test_debug_is_switched_off_at_the_end(name: str, transport: str, tmp_path: Path) -> None:
    platform = load_platform(name)
    on = [str(c) for c in CASES[name]["debug"]]  # type: ignore[union-attr]
    assert any(platform.debug_change(c) == "on" for c in on)
    for command in on:
        assert check_command(command, platform).allowed, command
    with rig(name, transport) as r:
        outcome = run_steps(show_steps(*on), platform, r.url, tmp_path)
        assert outcome.status == "ok", (outcome.status, outcome.error)
        sent = commands(r.events)
        last_on = max(i for i, c in enumerate(sent) if c in on)
        after = sent[last_on + 1 :]
        for off in platform.debug_off_commands:  # the platform's all-off, sent by cleanup after debug went on
            assert off in after, (off, after)
        kinds = [e["kind"] for e in r.events.events() if e["kind"] in ("debug-on", "debug-off")]
        assert kinds and kinds[-1] == "debug-off"
        assert any(e["event"] == "debug-off-sent" for e in journal(outcome))


@pytest.mark.parametrize("name", sorted(n for n, c in CASES.items() if not c["debug"]))
def test_platforms_without_debug_have_no_debug_section(name: str) -> None:
    platform = load_platform(name)
    assert platform.debug is None and platform.debug_off_commands == []


JUNOS_FILTERS = {'show log messages | match "RPD_OSPF_NBR|BGP_"': "match", "show log messages | except rpd": "except",
                 "show log messages | find BGP_": "find"}


def junos_filtered(log: list[bytes], command: str) -> bytes:
    """What Junos prints for `show log messages | <filter> <regex>` (the regex in double quotes or bare)."""
    kind, regex = JUNOS_FILTERS.get(command) or "match", command.split(" | ", 1)[1].split(" ", 1)[1].strip('"')
    hits = [re.search(regex.encode(), line) is not None for line in log]
    if kind == "find":
        return b"".join(log[hits.index(True):]) if True in hits else b""
    return b"".join(line for line, hit in zip(log, hits, strict=True) if hit == (kind == "match"))


def test_junos_output_filters_match_except_find(tmp_path: Path) -> None:
    platform = load_platform("juniper_junos")
    with rig("juniper_junos", "ssh") as r:
        outcome = run_steps(show_steps(*JUNOS_FILTERS), platform, r.url, tmp_path)
        assert outcome.status == "ok", (outcome.status, outcome.error)
        log = b"".join(r.device.expected_output("show log messages")).splitlines(keepends=True)
        for command in JUNOS_FILTERS:
            want = junos_filtered(log, command)
            assert want and want != b"".join(log)  # the sample filters something out and keeps something
            assert step_file(outcome, command) == want, command


class _Wire:
    def __init__(self) -> None:
        self.out = b""

    def sendall(self, data: bytes) -> None:
        self.out += data

    def recv(self, n: int) -> bytes:
        return b""


_TOKENS = st.sampled_from(["rpd", "RPD_OSPF_NBR", "BGP_", "sshd", "mgd", "UI_LOG", "ADJ", "fpc0", "nothing-here"])


@settings(max_examples=60, deadline=None)
@given(tokens=st.lists(_TOKENS, min_size=1, max_size=4, unique=True), quoted=st.booleans())
def test_junos_match_keeps_exactly_the_lines_any_alternative_matches(tokens: list[str], quoted: bool) -> None:
    dev = SimDevice(DeviceProfile.load("juniper_junos"))
    regex = "|".join(tokens)
    shown = f'"{regex}"' if quoted or len(tokens) > 1 else regex  # Junos needs quotes around `|`
    command = f"show log messages | match {shown}"
    wire = _Wire()
    assert SimSession(dev, wire, "admin", line_ending=b"\n").execute(command)  # type: ignore[arg-type]
    log = b"".join(dev.expected_output("show log messages")).splitlines(keepends=True)
    assert wire.out == junos_filtered(log, command)
