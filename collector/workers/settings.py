"""The Celery configuration of collector's app, in one place: broker and result backend (Redis), at-least-once
delivery (acks_late, reject_on_worker_lost, a visibility timeout renewed while a device runs), JSON only.

Values come from the environment (COLLECTOR_BROKER ...) so `celery -A collector.workers.app inspect ping` works on
the same app; `collector worker` and `collector run --via` set them from their flags.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Any

DEFAULT_BROKER = "redis://127.0.0.1:6379/0"
DEFAULT_QUEUE = "collector"
TASK = "collector.device"
#: a lost worker's devices are redelivered after this (a running device renews it, so steps may be longer)
DEFAULT_VISIBILITY = 900.0
DEFAULT_HEARTBEAT = 5.0
ENV_BROKER = "COLLECTOR_BROKER"
ENV_VISIBILITY = "COLLECTOR_VISIBILITY_TIMEOUT"
ENV_HEARTBEAT = "COLLECTOR_HEARTBEAT"
#: a queue name (from an inventory or --queues) becomes part of Redis keys: a bounded, plain alphabet
QUEUE_NAME = re.compile(r"[A-Za-z0-9._:-]{1,100}")


@dataclass(frozen=True)
class Settings:
    broker: str = DEFAULT_BROKER
    visibility_timeout: float = DEFAULT_VISIBILITY
    heartbeat: float = DEFAULT_HEARTBEAT
    events: bool = False  # Celery task events (Flower's live view); off by default: they cost per task

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        return cls(broker=env.get(ENV_BROKER) or DEFAULT_BROKER,
                   visibility_timeout=_seconds(env.get(ENV_VISIBILITY), DEFAULT_VISIBILITY),
                   heartbeat=_seconds(env.get(ENV_HEARTBEAT), DEFAULT_HEARTBEAT))

    def to_env(self) -> dict[str, str]:
        return {ENV_BROKER: self.broker, ENV_VISIBILITY: str(self.visibility_timeout),
                ENV_HEARTBEAT: str(self.heartbeat)}

    @property
    def lease(self) -> float:
        """How long a device stays claimed by a worker that stopped renewing (a crash): the visibility timeout."""
        return self.visibility_timeout

    def celery(self) -> dict[str, Any]:
        restore = max(1.0, min(10.0, self.visibility_timeout / 4))
        transport = {
            "visibility_timeout": self.visibility_timeout,  # sweeps restore a lost worker's messages after this
            "unacked_restore_interval": restore,
            "unacked_restore_throttle": 1,
            # the sweep's mutex: kombu keeps it 5 minutes by default, so a worker killed (or a broker restarted)
            # in the middle of a sweep would hold every redelivery back that long; a sweep takes milliseconds
            "unacked_mutex_expire": 15,
            "socket_timeout": 15, "socket_connect_timeout": 10, "socket_keepalive": True,
            "health_check_interval": 10,
        }
        return {
            "broker_url": self.broker, "result_backend": self.broker,
            "task_serializer": "json", "result_serializer": "json", "accept_content": ["json"],
            "task_acks_late": True, "task_reject_on_worker_lost": True,
            "task_acks_on_failure_or_timeout": True,
            "worker_prefetch_multiplier": 1,
            "task_default_queue": DEFAULT_QUEUE, "task_create_missing_queues": True,
            "broker_transport_options": transport, "result_backend_transport_options": dict(transport),
            "broker_connection_retry": True, "broker_connection_retry_on_startup": True,
            "broker_connection_max_retries": None, "broker_channel_error_retry": True,
            "worker_hijack_root_logger": False, "worker_redirect_stdouts": False,
            "worker_send_task_events": self.events, "task_send_sent_event": self.events,
            "task_track_started": False,  # the fleet's status hash says who runs what (one write less per job)
            "result_expires": 86400, "result_extended": False,
            "worker_cancel_long_running_tasks_on_connection_loss": False,
            "task_publish_retry": True,
            "task_publish_retry_policy": {"max_retries": 5, "interval_start": 0.5, "interval_step": 1.0,
                                          "interval_max": 5.0},
        }


def _seconds(text: str | None, default: float) -> float:
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        return default
    return value if value > 0 else default
