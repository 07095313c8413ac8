"""collector.playbook package."""
