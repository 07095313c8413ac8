"""Structured output next to the raw: step files parsed into `parsed/NNN-<slug>.json` after the bytes are safe.

ntc-templates (TextFSM) by platform and command; TTP or Genie when installed; never on the collection path.
"""

from .outcome import CHOICES, ParseChoice, ParseOutcome

__all__ = ["CHOICES", "ParseChoice", "ParseOutcome"]
