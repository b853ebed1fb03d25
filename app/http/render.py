"""The template environment shared by the pages (app/web) and the HTML downloads of the API."""

from datetime import datetime
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

from app.core.config import get_settings
from app.http import labels
from app.workflow.states import HazardState
from app.workflow.table import ACTION_LABELS, LEVEL_LABELS, ROLE_LABELS, STATE_LABELS

TEMPLATES = Path(__file__).parent.parent / "web" / "templates"
STATIC = Path(__file__).parent.parent / "web" / "static"


def _local(value: datetime | None) -> str:
    return value.astimezone(get_settings().tz).strftime("%Y-%m-%d %H:%M") if value else ""


environment = Environment(
    loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]),
    trim_blocks=True, lstrip_blocks=True,
)
environment.filters["local"] = _local
environment.globals.update(
    action_label=lambda a: ACTION_LABELS.get(a, a),
    state_label=lambda s: STATE_LABELS.get(HazardState(s), s) if s else "",
    role_label=ROLE_LABELS.get,
    level_label=lambda level: LEVEL_LABELS.get(level, level),
)
environment.globals["labels"] = labels


def render(template: str, **context: object) -> str:
    return environment.get_template(template).render(**context)
