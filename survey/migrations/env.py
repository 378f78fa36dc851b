"""Alembic environment: runs on the connection handed over by survey.schema."""

from alembic import context

from survey import models  # noqa: F401  (registers every table on Base.metadata)
from survey.db import Base

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
