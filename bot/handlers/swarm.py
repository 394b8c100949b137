"""Handlers of the Swarm commands (service, node, stack)."""

from __future__ import annotations
