"""collector.runner package."""
