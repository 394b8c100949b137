"""The store's Alembic environment (env.py) and revisions (versions/), loaded by bot.store.schema.

A schema change is one new file in versions/: `down_revision` the previous head, explicit
`op.*` calls (no autogenerate at run time), and a test that upgrades a store of the
previous revision with rows in it.
"""
