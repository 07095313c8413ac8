"""An inventory holds credential REFERENCES only: any value under a secret-named key is refused with file:line
(never echoed); references (env names, commands as argv) are accepted, and commands never go through a shell.
"""

from __future__ import annotations

import csv
import io
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from collector.errors import InventoryError
from collector.fleet.inventory import load_inventory
from collector.fleet.refs import LOOKUP, SecretRef, parse_ref, resolve, secret_key

SECRET_KEYS = ["password", "ansible_password", "ansible_ssh_pass", "ansible_become_password", "ansible_become_pass",
               "secret", "enable_secret", "enable", "token", "api_token", "snmp_community", "key_passphrase",
               "tacacs_key", "private_key", "Password", "ANSIBLE_PASSWORD", "radius-secret", "psk", "otp",
               "vault_password", "auth_key", "bgp_password"]
NOT_SECRET = ["hostname", "site", "role", "ansible_host", "key_file", "ansible_ssh_private_key_file", "bypass",
              "ospf_passive", "enable_mode", "footprint", "platform", "username", "port"]

# values that are not a reference form (a plain text, a number, a URL, a half-written lookup)
values = st.one_of(
    st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), min_size=3, max_size=30)
    .filter(lambda s: s.strip() and not LOOKUP.fullmatch(s.strip()) and s.strip().lower() not in (
        "true", "false", "yes", "no", "null", "~", "on", "off") and not s.strip().startswith(("#", "&", "*", "!"))),
    st.integers(min_value=1000, max_value=10**12),
)


def yaml_scalar(value: object) -> str:
    if isinstance(value, int):
        return str(value)
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(key=st.sampled_from(SECRET_KEYS), value=values, where=st.sampled_from(["host", "data", "group", "defaults"]))
def test_any_value_under_a_secret_key_is_refused_with_its_line_nornir(tmp_path: Path, key: str, value: object,
                                                                       where: str) -> None:
    folder = tmp_path / where
    folder.mkdir(exist_ok=True)
    line = f"{key}: {yaml_scalar(value)}"
    hosts = "r1:\n  hostname: 192.0.2.1\n  groups: [g]\n"
    groups, defaults = "g:\n  data:\n    site: x\n", "data:\n  site: y\n"
    if where == "host":
        hosts += f"  {line}\n"
        expect = (folder / "hosts.yaml", 4)
    elif where == "data":
        hosts += f"  data:\n    nested:\n      {line}\n"
        expect = (folder / "hosts.yaml", 6)
    elif where == "group":
        groups += f"    {line}\n"
        expect = (folder / "groups.yaml", 4)
    else:
        defaults += f"  {line}\n"
        expect = (folder / "defaults.yaml", 3)
    for name, text in (("hosts.yaml", hosts), ("groups.yaml", groups), ("defaults.yaml", defaults)):
        (folder / name).write_text(text)
    with pytest.raises(InventoryError) as err:
        load_inventory(folder / "hosts.yaml")
    assert f"{expect[0]}:{expect[1]}:" in err.value.message
    if len(str(value)) >= 8:  # the value itself is never echoed (short ones may be a word of the message)
        assert str(value) not in err.value.message.split(": ", 1)[1]
    assert "reference" in err.value.message


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(key=st.sampled_from(SECRET_KEYS), value=values)
def test_any_value_under_a_secret_key_is_refused_ansible_ini_and_csv(tmp_path: Path, key: str, value: object) -> None:
    text = str(value).replace("\n", " ").strip()
    ini = tmp_path / "hosts"
    quoted = '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
    ini.write_text(f"[routers]\nr1 ansible_host=192.0.2.1\n\n[routers:vars]\nsite=ams\n{key}={quoted}\n")
    with pytest.raises(InventoryError) as err:
        load_inventory(ini)
    assert f"{ini}:6:" in err.value.message
    buf = io.StringIO()
    csv.writer(buf).writerows([["name", "target", key], ["r0", "ssh://192.0.2.9", ""], ["r1", "ssh://192.0.2.1", text]])
    path = tmp_path / "devices.csv"
    path.write_text(buf.getvalue())
    with pytest.raises(InventoryError) as err:
        load_inventory(path)
    assert f"{path}:3:" in err.value.message


@pytest.mark.parametrize("text", [
    "all:\n  hosts:\n    r1:\n      ansible_password: !vault |\n          $ANSIBLE_VAULT;1.1;AES256\n          6162\n",
    "all:\n  vars:\n    ansible_become_password: s3cr3t\n  hosts:\n    r1:\n",
    "r1:\n  target: ssh://admin:s3cr3t@192.0.2.1\n",
    "r1:\n  hostname: 192.0.2.1\n  password_env: not a variable name\n",
    "r1:\n  hostname: 192.0.2.1\n  password_command: [echo, s3cr3t]\n",
    "r1:\n  hostname: 192.0.2.1\n  password: {env: X, command: [pass]}\n",
    "r1:\n  hostname: 192.0.2.1\n  data:\n    snmp: {community: public}\n",
])
def test_values_in_disguise_are_refused(tmp_path: Path, text: str) -> None:
    path = tmp_path / "hosts.yaml"
    path.write_text(text)
    with pytest.raises(InventoryError) as err:
        load_inventory(path)
    assert str(path) + ":" in err.value.message
    assert "s3cr3t" not in err.value.message and "public" not in err.value.message


@pytest.mark.parametrize("key, value, ref", [
    ("password", {"env": "R1_PW"}, SecretRef(env="R1_PW")),
    ("password", {"command": ["pass", "show", "r1"]}, SecretRef(argv=("pass", "show", "r1"))),
    ("password", {"command": "pass show 'routers/r 1'"}, SecretRef(argv=("pass", "show", "routers/r 1"))),
    ("ansible_password", "{{ lookup('env', 'AMS_PW') }}", SecretRef(env="AMS_PW")),
    ("ansible_password", '{{lookup("pipe", "pass show ams")}}', SecretRef(argv=("pass", "show", "ams"))),
    ("password", "", None),
])
def test_reference_forms_are_accepted(key: str, value: object, ref: SecretRef | None) -> None:
    assert parse_ref(value, "f:1", key) == ref


def test_key_names() -> None:
    assert all(secret_key(k) for k in SECRET_KEYS)
    assert not any(secret_key(k) for k in NOT_SECRET)


def test_a_command_reference_runs_as_argv_never_through_a_shell(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    tricky = f"x; touch {marker} && echo $(id) `id` > {marker}"
    ref = SecretRef(argv=(sys.executable, "-c", "import sys; print(sys.argv[1])", tricky))
    assert resolve(ref, "password").reveal() == tricky  # printed literally: no shell expanded it
    assert not marker.exists()


def test_env_reference_resolves_and_a_missing_variable_names_it() -> None:
    assert resolve(SecretRef(env="FLEET_T_PW"), "password", {"FLEET_T_PW": "v"}).reveal() == "v"
    with pytest.raises(Exception, match="FLEET_T_MISSING is not set"):
        resolve(SecretRef(env="FLEET_T_MISSING"), "password", {})
