"""How a simulated device's CLI behaves, as data: prompts, enable, pager, paging-off commands, errors, debug, config.

The `cli:` section of transcripts/<name>/device.yaml; the defaults are Cisco IOS, so an IOS profile needs none.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class _Data(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Prompts(_Data):
    """Prompt templates. Placeholders: {hostname}, {username}, {n} (commands so far), {context} (the last word of
    the command that entered configuration, FortiOS `(console)`)."""

    user: str = "{hostname}>"
    priv: str = "{hostname}#"
    config: str = "{hostname}(config)#"


class Paging(_Data):
    """The pager: its prompt, the keys it takes, what it sends after a key, and what switches it off."""

    prompt: str = " --More-- "
    erase: Literal["backspace", "cursor-left", "cr", "clear-line", "newline"] = Field(
        default="backspace", description="what the device sends after the key to remove the prompt"
    )
    page_keys: str = Field(default=" ", description="keys that show the next page")
    line_keys: str = Field(default="\r\n", description="keys that show one more line")
    dump_keys: str = Field(default="", description="keys that show the rest without stopping (RouterOS D)")
    commands: dict[str, Literal["length", "off", "on"]] = Field(
        default={"terminal length {n}": "length"},
        description="session commands: `length` sets the page length from {n} (0: off), `off`, `on`",
    )
    setting: str | None = Field(default=None, description="a device setting that switches paging device-wide")
    on_value: str = Field(default="more", description="the setting's value that makes the device page")


class Enable(_Data):
    command: str = "enable"
    disable: str | None = "disable"
    username_prompt: str | None = None
    password_prompt: str = "Password: "
    failure: str = "% Bad secrets"


class Errors(_Data):
    """Error texts. Placeholders: {caret} (blanks and `^` under the bad word, counted from the prompt's start),
    {word} (the bad word), {line} (the typed line), {col1} (1-based column of the bad word)."""

    invalid: str = "{caret}\n% Invalid input detected at '^' marker.\n\n"
    invalid_first: str | None = Field(default=None, description="when the first word is unknown (default: invalid)")
    incomplete: str = "% Incomplete command.\n\n"
    ambiguous: str = '% Ambiguous command:  "{line}"\n'
    bad_filter: str = "% Invalid input detected at '^' marker.\n\n"


class DebugStyle(_Data):
    """Commands that switch debug on and off; `*` is the debug's name (the rest of the line)."""

    on: list[str] = ["debug *"]
    off: list[str] = ["undebug all", "no debug all", "undebug *", "no debug *"]
    on_reply: str = "{name} debugging is on\n"
    off_reply: str = "All possible debugging has been turned off\n"
    monitor_on: list[str] = ["terminal monitor"]
    monitor_off: list[str] = ["terminal no monitor"]
    needs_monitor: bool = Field(default=True, description="debug lines reach the session only after monitor_on")
    line: str = Field(default="{seq:06d}: *{stamp}: {text}", description="one debug line: {seq} {stamp} {text}")
    texts: dict[str, str] = Field(
        default={
            "ip ospf": "OSPF-1 HELLO Gi0/0/1: Rcv hello from 10.0.12.2 area 0 10.0.12.2",
            "ip packet": "IP: s=10.0.12.1 (local), d=10.0.12.2 (GigabitEthernet0/0/1), len 100, sending",
            "ip bgp": "BGP(0): 10.0.12.2 rcvd UPDATE w/ attr: nexthop 10.0.12.2, origin i, metric 0, path 65002",
        },
        description="debug name prefix -> the text of its lines (others: NAME: event N)",
    )
    flap_line: str = Field(
        default="%OSPF-5-ADJCHG: Process 1, Nbr 10.0.12.2 on GigabitEthernet0/0/1 from FULL to DOWN, "
        "Neighbor Down: Dead timer expired",
        description="printed once, flap_after seconds after the first debug (what triggers and until.match see)",
    )


class SettingCommand(_Data):
    """A command that changes a device-wide setting (kept by the device, seen by every session)."""

    command: str = Field(description="regex on the typed line (full match); group `value` is the new value")
    setting: str
    context: str | None = Field(default=None, description="only inside this configuration context (FortiOS)")


class ConfigStyle(_Data):
    """Configuration mode: how it is entered and left. Lines typed there are accepted and ignored."""

    enter: list[str] = ["configure terminal"]
    leave: list[str] = ["end"]
    up: list[str] = Field(default=["exit"], description="leave configuration mode one level (back to exec here)")
    do: str | None = Field(default="do *", description="runs an exec command from configuration mode")
    banner: str = "Enter configuration commands, one per line.  End with CNTL/Z.\n"


class Filters(_Data):
    """The output filters after `|`: each word and what it does; Junos quotes its regex (`| match "A|B"`)."""

    words: dict[str, Literal["include", "exclude", "begin"]] = {"include": "include", "exclude": "exclude",
                                                                "begin": "begin"}
    quoted: bool = Field(default=False, description="a regex in double quotes loses them")


class CliStyle(_Data):
    """Everything about the simulated CLI that differs between platforms."""

    kind: Literal["cli", "shell"] = Field(default="cli", description="shell: a POSIX shell (linux profile)")
    abbreviations: bool = True
    prompts: Prompts = Prompts()
    intro: str = Field(default="\nUser Access Verification\n\n", description="printed before the login prompts")
    after_login: str = Field(default="\n", description="printed after a successful login, before the prompt")
    enable: Enable | None = Enable()
    paging: Paging = Paging()
    errors: Errors = Errors()
    filters: Filters = Filters()
    debug: DebugStyle | None = DebugStyle()
    config: ConfigStyle | None = ConfigStyle()
    exit: list[str] = ["exit", "logout", "quit"]
    noop: list[str] = Field(default=["terminal width {n}"], description="accepted and ignored (terminal width)")
    setting_commands: list[SettingCommand] = []
    confirms: dict[str, str] = Field(
        default={"clear counters": 'Clear "show interface" counters on all interfaces [confirm]'},
        description="commands that ask before acting: y or Return goes ahead, anything else aborts",
    )


class Question(_Data):
    """A question during login (accept the banner, change the password now?) and the answer it needs."""

    text: str
    accept: str = Field(description="regex (case-insensitive) the answer must match, else the session ends")
    key: bool = Field(default=False, description="one keystroke answers (no Return)")
    when: Literal["before", "after"] = Field(default="after", description="before the username prompt, or after")


__all__ = ["CliStyle", "ConfigStyle", "DebugStyle", "Enable", "Errors", "Filters", "Paging", "Prompts", "Question",
           "SettingCommand"]
