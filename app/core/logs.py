"""Logging of the server and the worker: one JSON object a line in production (for log
shipping: python-json-logger), readable text in development; every line carries the request
id (`request_id`, "-" outside a request)."""

import logging.config
from contextvars import ContextVar
from typing import Any, Literal

LogFormat = Literal["json", "text"]
# The running request's id (set by app/http/observability.py).
REQUEST_ID: ContextVar[str] = ContextVar("request_id", default="-")
# The running request's client address (after trusted proxies' headers), for the audit log.
CLIENT_ADDRESS: ContextVar[str | None] = ContextVar("client_address", default=None)


class RequestIdFilter(logging.Filter):
    """Adds the running request's id to every record (`request_id`)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = REQUEST_ID.get()
        return True


def logging_config(log_format: LogFormat, level: str = "INFO") -> dict[str, Any]:
    formatter: dict[str, Any] = (
        {"()": "pythonjsonlogger.json.JsonFormatter",
         "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
         "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"}}
        if log_format == "json" else
        {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"})
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": "app.core.logs.RequestIdFilter"}},
        "formatters": {"default": formatter},
        "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "default",
                                "filters": ["request_id"]}},
        "root": {"handlers": ["stderr"], "level": level},
        # uvicorn's own access log repeats ours (app/http/observability.py) without the id.
        "loggers": {"uvicorn.access": {"level": "WARNING"},
                    "uvicorn": {"handlers": [], "propagate": True},
                    "uvicorn.error": {"handlers": [], "propagate": True}},
    }


def configure(log_format: LogFormat) -> None:
    logging.config.dictConfig(logging_config(log_format))
