"""Prometheus metrics (prometheus-client): requests per route, photo ingest time, the worker's
steps, and the outbox's backlog and lag read from the database at each scrape.

The app's processes count requests in their own memory. With several uvicorn workers, set
PROMETHEUS_MULTIPROC_DIR to an empty folder shared by them (prometheus-client's multiprocess
mode) so that one scrape sees all of them; `bihuan worker --metrics-port` serves the worker's.
"""

import logging
import os
from collections.abc import Callable, Iterator
from datetime import datetime

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import REGISTRY, Collector
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from app.models.outbox import OutboxMessage, WebhookDelivery

REQUESTS = Counter("bihuan_http_requests", "HTTP requests answered",
                   ["method", "route", "status"])
LATENCY = Histogram("bihuan_http_request_seconds", "Time to answer an HTTP request",
                    ["method", "route"],
                    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30))
PHOTO_INGEST = Histogram("bihuan_photo_ingest_seconds",
                         "Time to check and process one uploaded photo",
                         buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10))
WORKER_STEPS = Counter("bihuan_worker_steps", "Worker jobs run, by job", ["job"])

CONTENT_TYPE = CONTENT_TYPE_LATEST
log = logging.getLogger(__name__)


class OutboxCollector(Collector):
    """The backlog the worker has yet to send, and how late its oldest message is."""

    def __init__(self, sessions: Callable[[], Session], now: Callable[[], datetime]) -> None:
        self.sessions, self.now = sessions, now

    def collect(self) -> Iterator[GaugeMetricFamily]:
        try:
            yield from self._collect()
        except SQLAlchemyError:
            # The scrape still answers (the process's own metrics); /readyz names the cause.
            log.warning("outbox metrics unavailable: the database did not answer", exc_info=True)

    def _collect(self) -> Iterator[GaugeMetricFamily]:
        with self.sessions() as session:
            undispatched, oldest = session.execute(
                select(func.count(), func.min(OutboxMessage.created_at))
                .where(OutboxMessage.dispatched_at.is_(None))).one()
            pending = session.scalar(select(func.count()).select_from(WebhookDelivery)
                                     .where(WebhookDelivery.status == "pending"))
        backlog = GaugeMetricFamily("bihuan_outbox_backlog", "Outbox work not yet done",
                                    labels=["kind"])
        backlog.add_metric(["messages"], undispatched)
        backlog.add_metric(["deliveries"], pending or 0)
        yield backlog
        lag = (self.now() - oldest).total_seconds() if oldest is not None else 0.0
        yield GaugeMetricFamily("bihuan_worker_lag_seconds",
                                "Age of the oldest outbox message the worker has not sent",
                                value=max(lag, 0.0))


def exposition(database: Collector) -> bytes:
    """This process's metrics (or every process's, in multiprocess mode) and the database's."""
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        MultiProcessCollector(registry)
        body = generate_latest(registry)
    else:
        body = generate_latest(REGISTRY)
    database_registry = CollectorRegistry()
    database_registry.register(database)
    return body + generate_latest(database_registry)
