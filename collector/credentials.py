"""Credentials for one hop or the device: username, password, enable secret, key, OTP source.

OTPs are never stored: `otp()` asks the provider each time it is called.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from .secrets import Masker, Secret

OtpProvider = Callable[[str], Secret]


@dataclass
class Credentials:
    """What we may answer to login dialogs; secrets are `Secret` and never print."""

    username: str | None = None
    password: Secret | None = None
    enable: Secret | None = None
    key_file: str | None = None
    key_passphrase: Secret | None = None
    otp_provider: OtpProvider | None = None
    masker: Masker = field(default_factory=Masker)

    def __post_init__(self) -> None:
        for s in (self.password, self.enable, self.key_passphrase):
            self.masker.add(s)

    def otp(self, prompt: str = "OTP: ") -> Secret:
        from .errors import AuthenticationError

        if self.otp_provider is None:
            raise AuthenticationError(
                "the device asks for a one-time password and none can be given",
                hint="pass --otp-command CMD, or run interactively so collector can ask",
            )
        value = self.otp_provider(prompt)
        self.masker.add(value)
        return value

    def for_hop(self, username: str | None) -> Credentials:
        """A copy with another username (hops share the masker)."""
        return Credentials(
            username=username or self.username,
            password=self.password,
            enable=self.enable,
            key_file=self.key_file,
            key_passphrase=self.key_passphrase,
            otp_provider=self.otp_provider,
            masker=self.masker,
        )
