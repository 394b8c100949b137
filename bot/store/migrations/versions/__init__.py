"""One Alembic revision per schema change, oldest first by their number."""
