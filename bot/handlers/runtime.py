"""Handlers of stats, port, pause/unpause, rename, wait, diff, history, events and update."""

from __future__ import annotations
