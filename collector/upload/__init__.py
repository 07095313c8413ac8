"""collector.upload package."""
