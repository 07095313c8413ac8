"""collector.transports package."""
