"""`slipway db upgrade`: bring an existing database to the current schema with Alembic."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.exc import DBAPIError

from slipway.config import mask_url
from slipway.errors import Unavailable
from slipway.store._engine import make_engine
from slipway.store._schema_check import current_revision, head

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config() -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def upgrade(url: str, target: str = "head") -> tuple[str | None, str]:
    """Upgrade the database at `url`; return (revision before, revision after)."""
    from alembic import command

    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            before = current_revision(conn)
        config = alembic_config()
        connection = engine.connect().execution_options(sqlite_begin="IMMEDIATE")
        with connection as conn, conn.begin():
            config.attributes["connection"] = conn
            command.upgrade(config, target)
        with engine.connect() as conn:
            after = current_revision(conn) or head()
        return before, after
    except DBAPIError as exc:
        raise Unavailable(f"cannot upgrade {mask_url(url)}: {str(exc.orig).strip()}") from None
    finally:
        engine.dispose()
