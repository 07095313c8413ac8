"""What a simulated device is: hostname, secrets, login dialog, CLI style, device settings, transcripts.

Loaded from transcripts/<name>/device.yaml (see transcripts/README.md); every field has a default (Cisco IOS).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ..errors import UsageError
from .style import CliStyle, Question

TRANSCRIPTS_ROOT = Path(__file__).resolve().parents[2] / "transcripts"
DEFAULT_TRANSCRIPTS = TRANSCRIPTS_ROOT / "cisco_ios"


class LoginDialog(BaseModel):
    """In-band login (Telnet, serial). SSH authenticates at the SSH layer, so its mode is usually "none"."""

    model_config = ConfigDict(extra="forbid")

    mode: Literal["none", "password", "username-password", "username-password-otp"] = "none"
    username: str = "admin"
    password: str = "cisco123"
    otp: str | None = None
    banner: str = ""
    press_return: bool = False
    initial_config_dialog: bool = False
    max_attempts: int = 3
    username_prompt: str = "Username: "
    password_prompt: str = "Password: "
    otp_prompt: str = "OTP: "
    fail_message: str = "% Login invalid"
    press_return_text: str = "Press RETURN to get started!"
    username_options: bool = Field(
        default=False, description="RouterOS: `user+ct511w4098h` carries terminal options (h: page height) after +"
    )
    questions: list[Question] = Field(default=[], description="asked before the username or after the login")


class Generator(BaseModel):
    """A command whose output is computed, e.g. `seq {n}` -> kind "seq"; `{n}` captures an integer."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["showtech", "seq", "yes", "blob", "template"]
    size: int | None = None  # showtech only: overrides profile.show_tech_bytes
    text: str = ""  # template only: {name} is replaced by the device setting `name`


class DeviceProfile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = "cisco_ios"
    platform: str = "cisco_ios"
    hostname: str = "R1"
    enable_secret: str | None = "enable123"
    start_privileged: bool = False
    transcripts_dir: Path = DEFAULT_TRANSCRIPTS
    show_tech_bytes: int = 8 << 20
    page_length: int = 24
    debug_rate: float = 20.0
    flap_after: float | None = None
    line_ending: bytes = b"\r\n"
    login: LoginDialog = Field(default_factory=LoginDialog)
    privileged_commands: list[str] = Field(
        default_factory=lambda: ["show running-config", "show startup-config", "show tech-support"]
    )
    generators: dict[str, Generator] = Field(default_factory=dict)
    seed: int = 1
    cli: CliStyle = Field(default_factory=CliStyle)
    settings: dict[str, str] = Field(default_factory=dict, description="device-wide settings and their values")

    @model_validator(mode="before")
    @classmethod
    def _shell_defaults(cls, data: Any) -> Any:
        """A linux profile without a `cli:` section is a POSIX shell (no enable, pager, debug or config mode)."""
        if isinstance(data, dict) and data.get("platform") == "linux" and "cli" not in data:
            data = {**data, "cli": {"kind": "shell", "abbreviations": False, "intro": "", "after_login": "",
                                    "enable": None, "debug": None, "config": None, "exit": ["exit", "logout"],
                                    "noop": [], "confirms": {}, "paging": {"commands": {}}}}
        return data

    @field_validator("line_ending", mode="before")
    @classmethod
    def _line_ending(cls, v: Any) -> Any:
        if isinstance(v, str):
            return v.encode("latin-1")
        return v

    @classmethod
    def load(cls, name_or_dir: str | Path = "cisco_ios", **overrides: Any) -> DeviceProfile:
        """Load transcripts/<name>/device.yaml (or DIR/device.yaml); keyword overrides win."""
        from ruamel.yaml import YAML

        d = Path(name_or_dir)
        if not d.is_dir():
            d = TRANSCRIPTS_ROOT / str(name_or_dir)
        f = d / "device.yaml"
        if not f.is_file():
            raise UsageError(f"no simulator profile {name_or_dir!s}: {f} not found", hint="see transcripts/README.md")
        data = YAML(typ="safe").load(f.read_text(encoding="utf-8")) or {}
        data.setdefault("name", d.name)
        data["transcripts_dir"] = d
        login_over = overrides.pop("login", None)
        data.update(overrides)
        if isinstance(login_over, LoginDialog):
            data["login"] = login_over
        elif isinstance(login_over, dict):
            data["login"] = {**data.get("login", {}), **login_over}
        try:
            return cls.model_validate(data)
        except ValueError as exc:
            raise UsageError(f"invalid simulator profile {f}: {exc}") from exc
