"""Fleet collection on Celery with a Redis broker: device jobs routed to queues, run by `collector worker`s.

A job carries the playbook (text and hash), the target and credential REFERENCES; the worker resolves secrets
locally, runs exactly the fleet's device job, seals the device run and sends it home; the submitter verifies it.
"""
