"""Shared pytest fixtures: real servers from tests/servers/ are available to every test module.

Import more server fixtures here as they appear (one line each).
"""

from tests.servers.sshd import sshd, sshd_factory, sshd_noforward  # noqa: F401
