"""The Celery app (`celery -A collector.workers.app inspect ping` works on it): configured from the environment,
with the device task registered. Nothing connects until something is sent or a worker starts.
"""

from __future__ import annotations

from celery import Celery

from .settings import Settings


def make_app(settings: Settings | None = None) -> Celery:
    s = settings or Settings.from_env()
    celery = Celery("collector", include=["collector.workers.tasks"])
    celery.conf.update(s.celery())
    return celery


app = make_app()
