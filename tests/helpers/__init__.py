"""Test-only helpers: in-memory transports and fake links."""
