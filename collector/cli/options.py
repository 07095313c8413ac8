"""Option declarations shared by the commands (one place, so every command spells them the same way).

Metavars say what to type (VAR, CMD, URL, FILE) and help lines stay short enough for an 80-column terminal.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

TARGET_HELP = ("ssh://user@host[:port], telnet://, serial://, rfc2217://, socket://, modem://, openssh://host "
               "(your own ssh), cmd://?argv=virsh+console+vm1")

Target = Annotated[str, typer.Option("--target", "-t", metavar="URL", help=TARGET_HELP)]
OptTarget = Annotated[str | None, typer.Option("--target", "-t", metavar="URL", help=TARGET_HELP)]
Inventory = Annotated[Path | None, typer.Option("--inventory", "-i", metavar="PATH",
                                                help="many devices: nornir hosts.yaml, Ansible YAML/INI, or CSV")]
Limit = Annotated[list[str] | None, typer.Option("--limit", "-l", metavar="PATTERN",
                                                 help="devices by name/group glob, ~regex, &and, !not, key=value")]
Filter = Annotated[list[str] | None, typer.Option("--filter", metavar="COND[,COND]",
                                                  help="key=glob, key!=glob, key~=regex, key__contains=x ...")]
Workers = Annotated[int | None, typer.Option("--workers", "-w", metavar="N", help="devices at once (fleets)")]
DryRun = Annotated[bool, typer.Option("--dry-run", help="list device, platform and path; contact nothing")]
LoginsPerHost = Annotated[int, typer.Option("--logins-per-host", metavar="N",
                                            help="logins at once per jump host or device address (MaxStartups)")]
LoginsPerAaa = Annotated[int, typer.Option("--logins-per-aaa", metavar="N",
                                           help="logins at once per AAA server group (inventory `aaa:`)")]
Jump = Annotated[str | None, typer.Option("--jump", "-J", metavar="URL[,URL]",
                                          help="jump host(s), nearest first: ssh://ops@dmz")]
JumpMode = Annotated[str, typer.Option("--jump-mode", metavar="MODE",
                                       help="direct (SSH forwarding) or shell (the jump host's own client)")]
JumpPw = Annotated[list[str] | None, typer.Option("--jump-password-env", metavar="[HOST=]VAR",
                                                  help="jump host password from env VAR (every hop or one)")]
PwEnv = Annotated[str | None, typer.Option("--password-env", metavar="VAR", help="password from env variable VAR")]
PwCmd = Annotated[str | None, typer.Option("--password-command", metavar="CMD",
                                           help="password: first line printed by CMD")]
AskPw = Annotated[bool, typer.Option("--ask-password", help="prompt for the password (no echo)")]
EnEnv = Annotated[str | None, typer.Option("--enable-env", metavar="VAR", help="enable secret from env VAR")]
EnCmd = Annotated[str | None, typer.Option("--enable-command", metavar="CMD",
                                           help="enable secret: first line printed by CMD")]
AskEn = Annotated[bool, typer.Option("--ask-enable", help="prompt for the enable secret")]
Key = Annotated[str | None, typer.Option("--key", metavar="FILE", help="SSH private key file")]
KeyPwEnv = Annotated[str | None, typer.Option("--key-passphrase-env", metavar="VAR",
                                              help="passphrase of an encrypted --key from env VAR")]
KeyPwCmd = Annotated[str | None, typer.Option("--key-passphrase-command", metavar="CMD",
                                              help="passphrase of --key: first line printed by CMD")]
AskKeyPw = Annotated[bool, typer.Option("--ask-key-passphrase", help="prompt for the --key passphrase")]
OtpCmd = Annotated[str | None, typer.Option("--otp-command", metavar="CMD",
                                            help="one-time password: printed by CMD each time")]
Accept = Annotated[bool, typer.Option("--accept-new-host-key",
                                      help="trust an unknown host key once (a changed key is always refused)")]
Known = Annotated[str | None, typer.Option("--known-hosts", metavar="FILE", help="collector's own known_hosts")]
Legacy = Annotated[bool, typer.Option("--legacy-algorithms", help="allow SHA-1 kex / ssh-rsa for old devices")]
Agent = Annotated[bool, typer.Option("--use-agent", help="offer ssh-agent keys")]
NoSshConfig = Annotated[bool, typer.Option("--no-ssh-config", help="ignore ~/.ssh/config")]
SendBreak = Annotated[bool, typer.Option("--send-break", help="send BREAK on a console before waking it")]
RunsDir = Annotated[Path, typer.Option("--runs-dir", metavar="DIR", help="where run directories are written")]
Json = Annotated[bool, typer.Option("--json", help="print one JSON document instead of tables")]
Verbose = Annotated[int, typer.Option("--verbose", "-v", count=True, help="log progress to stderr (-vv: debug)")]
LogFile = Annotated[Path | None, typer.Option("--log-file", metavar="FILE",
                                              help="also write a debug log here (secrets masked)")]
AllowChanges = Annotated[bool, typer.Option("--allow-changes",
                                            help="permit changes the playbook itself allows")]
