"""collector.sim package."""
