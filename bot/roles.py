"""Roles, ordered: a higher role may do everything a lower one may."""

from __future__ import annotations

from enum import IntEnum


class Role(IntEnum):
    NONE = 0
    VIEWER = 1
    OPERATOR = 2
    ADMIN = 3

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, value: str) -> Role:
        try:
            return cls[value.strip().upper()]
        except KeyError:
            names = " | ".join(r.label for r in cls)
            raise ValueError(f"unknown role {value!r}: use one of {names}") from None
