"""Platform names other tools use (netmiko, nornir/napalm, scrapli, Ansible network_os) mapped to collector's.

Pure data; `family` says which platforms share a CLI, so an IOS playbook also runs on an IOS-XE device.
"""

from __future__ import annotations

ALIASES: dict[str, str] = {
    # Cisco IOS
    "cisco_ios": "cisco_ios", "ios": "cisco_ios", "cisco.ios.ios": "cisco_ios", "cisco.ios": "cisco_ios",
    "cisco_ios_ssh": "cisco_ios", "cisco_ios_telnet": "cisco_ios",
    # Cisco IOS-XE
    "cisco_xe": "cisco_xe", "iosxe": "cisco_xe", "ios-xe": "cisco_xe", "ios_xe": "cisco_xe", "cisco_iosxe": "cisco_xe",
    "cisco.iosxe": "cisco_xe",
    # Cisco NX-OS
    "cisco_nxos": "cisco_nxos", "nxos": "cisco_nxos", "nxos_ssh": "cisco_nxos", "cisco.nxos.nxos": "cisco_nxos",
    "cisco_nxos_ssh": "cisco_nxos",
    # Juniper Junos
    "juniper_junos": "juniper_junos", "junos": "juniper_junos", "juniper": "juniper_junos",
    "junipernetworks.junos.junos": "juniper_junos",
    # Arista EOS
    "arista_eos": "arista_eos", "eos": "arista_eos", "arista.eos.eos": "arista_eos",
    # hosts and routing daemons
    "linux": "linux", "linux_ssh": "linux", "generic": "linux", "frr": "frr", "frr.frr.frr": "frr",
}
#: netmiko's "<platform>_telnet" names also say the transport
TELNET_SUFFIX = "_telnet"
FAMILY: dict[str, str] = {"cisco_xe": "cisco_ios"}


def our_name(given: str) -> str | None:
    """collector's platform for a name another tool uses (case-insensitive); None when unknown."""
    return ALIASES.get(given.strip().lower())


def family(name: str) -> str:
    return FAMILY.get(name, name)


def compatible(device_platform: str, playbook_platform: str) -> bool:
    """Can a playbook written for one platform run on a device of another (same CLI family)?"""
    return family(device_platform) == family(playbook_platform)
