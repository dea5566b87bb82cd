"""Alembic environment: runs on the connection crisis_ct.db.upgrade hands over,
or on the URL from CRISIS_CT_DATABASE_URL when called as plain `alembic`."""
from alembic import context

from crisis_ct.db import Base, Database
from crisis_ct.config import load_settings

config = context.config


def run(connection) -> None:
    context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    run(connection)
else:
    database = Database(config.get_main_option("sqlalchemy.url") or load_settings()["DATABASE_URL"])
    with database.engine.begin() as conn:
        run(conn)
