"""collector.bundle package."""
