"""Alembic's configuration, built in code so that an installed bihuan migrates from any
directory: the revisions are the top-level `migrations/` folder of a checkout, shipped inside
the wheel as `app/migrations` (setup.py). `alembic.ini` stays for developers' `alembic`
commands (new revisions) in a checkout."""

from pathlib import Path

from alembic.config import Config

_APP = Path(__file__).resolve().parents[1]


def scripts_folder() -> Path:
    """The installed package's copy, else the checkout's folder beside app/."""
    installed = _APP / "migrations"
    return installed if (installed / "env.py").is_file() else _APP.parent / "migrations"


def alembic_config(url: str | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(scripts_folder()))
    config.set_main_option("path_separator", "os")
    if url:
        config.attributes["url"] = url
    return config
