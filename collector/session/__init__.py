"""collector.session package."""
