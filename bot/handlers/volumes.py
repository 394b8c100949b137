"""Handlers of the volume commands."""

from __future__ import annotations
