"""Fleet runs: an inventory (nornir, Ansible, CSV) becomes device jobs run concurrently under one fleet directory.

Each device job is exactly a single-device run (runner.Runner) in its own run directory; the fleet journal,
resume, per-resource login limits, the live view and the per-device bundle section are built on top of it.
"""
