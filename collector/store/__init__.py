"""collector.store package."""
