"""Platform names other tools use (netmiko, nornir/napalm, scrapli, Ansible network_os) mapped to collector's.

Data; `family` says which platforms share a CLI, so an IOS playbook also runs on an IOS-XE device.
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
    # Cisco IOS XR, ASA, WLC
    "cisco_xr": "cisco_xr", "iosxr": "cisco_xr", "ios-xr": "cisco_xr", "cisco.iosxr.iosxr": "cisco_xr",
    "cisco_asa": "cisco_asa", "asa": "cisco_asa", "cisco.asa.asa": "cisco_asa", "cisco_asa_ssh": "cisco_asa",
    "cisco_wlc": "cisco_wlc", "cisco_wlc_ssh": "cisco_wlc", "aireos": "cisco_wlc",
    "community.network.aireos": "cisco_wlc",
    # firewalls
    "paloalto_panos": "paloalto_panos", "panos": "paloalto_panos", "paloaltonetworks.panos": "paloalto_panos",
    "fortinet": "fortinet", "fortios": "fortinet", "fortinet.fortios.fortios": "fortinet",
    # switches and routers
    "hp_procurve": "hp_procurve", "procurve": "hp_procurve", "arubaoss": "hp_procurve",
    "arubanetworks.aos_switch.arubaoss": "hp_procurve",
    "aruba_aoscx": "aruba_aoscx", "aoscx": "aruba_aoscx", "arubanetworks.aoscx.aoscx": "aruba_aoscx",
    "huawei": "huawei", "huawei_vrp": "huawei", "huawei_vrpv8": "huawei", "ce": "huawei", "vrp": "huawei",
    "dell_os10": "dell_os10", "os10": "dell_os10", "dellemc.os10.os10": "dell_os10",
    "mikrotik_routeros": "mikrotik_routeros", "routeros": "mikrotik_routeros",
    "community.routeros.routeros": "mikrotik_routeros",
    "extreme_exos": "extreme_exos", "exos": "extreme_exos", "extreme.exos.exos": "extreme_exos",
    # detected after login
    "auto": "auto", "autodetect": "auto",
}
#: netmiko's "<platform>_telnet" names also say the transport
TELNET_SUFFIX = "_telnet"
FAMILY: dict[str, str] = {"cisco_xe": "cisco_ios"}


def our_name(given: str) -> str | None:
    """collector's platform for a name another tool uses (case-insensitive), or a platform of your own by its
    name; None when unknown."""
    from ..platforms import list_platforms

    name = given.strip().lower()
    return ALIASES.get(name) or (name if name in list_platforms() else None)


def family(name: str) -> str:
    return FAMILY.get(name, name)


def compatible(device_platform: str, playbook_platform: str) -> bool:
    """Can a playbook written for one platform run on a device of another (same CLI family)? A device whose
    platform is detected after login (`auto`) is checked then."""
    return "auto" in (device_platform, playbook_platform) or family(device_platform) == family(playbook_platform)
