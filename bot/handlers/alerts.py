"""Handlers of the alerts commands."""

from __future__ import annotations
