"""The scheduler's literal-secret check: commands that carry the secret in their own text are refused."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from collector.errors import UsageError
from collector.schedule.jobs import make_job
from collector.schedule.secret_check import literal_secret_problem

PLAYBOOK = Path(__file__).resolve().parents[2] / "playbooks" / "cisco_ios" / "tac-baseline.yaml"
S = "hunter2"

REFUSED = [
    f"echo {S}", f"/bin/printf {S}", f"true; echo {S}", f"true && echo {S}", f"env echo {S}", f"sh -c 'echo {S}'",
    f'bash -c "printf {S}"', f"sh -c \"sh -c 'echo {S}'\"", f"bash -c 'pass show x; echo {S}'", f"printf '%s' {S}",
    f"cat <<< {S}", "cat <<EOF", f"python3 -c 'print(\"{S}\")'", "python3.12 -c 'print(1)'", "perl -e 'print 1'",
    f"awk 'BEGIN{{print \"{S}\"}}'", f"sed -n 's/^/{S}/p' /etc/hostname", f"env -S 'echo {S}'",
    f"env X={S} printenv X", f"X={S} printenv X", f"timeout 5 echo {S}", f"sudo -u me echo {S}",
    f"nice -n 5 echo {S}", f"xargs echo {S}", f"su -c 'echo {S}' me", f"flock /tmp/l -c 'echo {S}'",
    f"busybox echo {S}", f"date +{S}", f"basename /{S}", f"yes {S} | head -n 1", f"expr {S}", f"jq -n '\"{S}\"'",
    "node -e 'console.log(1)'", "echo $(cat x)", f"`echo {S}`", f"printf {S} | base64", f"(echo {S})",
    f"{{ echo {S}; }}", f"pass show x\necho {S}", f"script -qc 'echo {S}' /dev/null", f"exec echo {S}",
    f"command echo {S}", f"nohup echo {S}", f"stdbuf -o0 echo {S}", f"ionice -c3 echo {S}", f"setsid echo {S}",
    f"doas -u x echo {S}", f"runuser -u x -- echo {S}", f"watch echo {S}", f"env -- echo {S}", "", "   ",
    f"pass show x # {S}", f"dc -e '{S}'", "php -r 'echo 1;'", "pwsh -c 'Write-Output 1'",
]
ALLOWED = [
    "pass show router1", "pass show router1/enable", "op read op://vault/router1/password",
    "security find-generic-password -w -s router1", "secret-tool lookup service router1", "gpg -q -d ~/router1.gpg",
    "vault kv get -field=password secret/router1", "bw get password router1", "cat ~/.config/collector/router1.pw",
    "pass show router1 | head -n 1", "/usr/local/bin/get-secret router1", "bash ~/bin/get-pw.sh router1",
    "sh -c 'pass show router1'",
    "aws secretsmanager get-secret-value --secret-id r1 --query SecretString --output text",
    "keepassxc-cli show -s -a Password db.kdbx router1", "gopass show -o router1", "lpass show --password router1",
    "op item get router1 --fields password", "jq -r .password /etc/collector/secrets.json", "timeout 10 pass show r1",
    "awk -f ~/bin/pw.awk /etc/collector/pw",
]


@pytest.mark.parametrize("command", REFUSED)
def test_literal_forms_are_refused(command: str) -> None:
    with pytest.raises(UsageError, match="must fetch the secret") as info:
        make_job(PLAYBOOK, "ssh://admin@r1", every="1h", now=datetime(2026, 11, 27, tzinfo=UTC),
                 password_command=command)
    assert "stored as written" in info.value.hint
    with pytest.raises(UsageError, match="--enable-command"):
        make_job(PLAYBOOK, "ssh://admin@r1", every="1h", now=datetime(2026, 11, 27, tzinfo=UTC),
                 enable_command=command)


@pytest.mark.parametrize("command", ALLOWED)
def test_commands_that_fetch_a_secret_are_accepted(command: str) -> None:
    assert literal_secret_problem(command) is None


@given(
    wrappers=st.lists(st.sampled_from(["env", "nice", "timeout 5", "sudo -n", "nohup", "command", "xargs", "setsid",
                                       "stdbuf -o0", "busybox"]), max_size=4),
    emitter=st.sampled_from(["echo", "printf", "/bin/echo", "yes", "basename", "date"]),
    shell=st.booleans(),
)
@settings(max_examples=200, deadline=None)
def test_emitters_behind_any_wrappers_are_refused(wrappers: list[str], emitter: str, shell: bool) -> None:
    command = " ".join([*wrappers, emitter, S])
    if shell:
        command = f"sh -c '{command}'"
    assert literal_secret_problem(command) is not None, command
