"""Handlers of the network commands."""

from __future__ import annotations
