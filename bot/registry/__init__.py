"""Talking to registries directly, as the engine would (docker-free): manifest HEADs for
digests, the token and Basic auth challenge, TLS from /etc/docker/certs.d, quota headers,
tag lists, and the manifest and config of a new digest.

The update job uses it so that detection costs one HEAD per unique image (Docker Hub counts
manifest GETs as pulls, not HEADs). The engine's distribution API is the fallback.
"""

from bot.registry.client import (
    Head,
    RegistryClient,
    RegistryError,
    RegistryLimited,
    RegistryUnreachable,
)
from bot.registry.quota import Quota

__all__ = ["Head", "Quota", "RegistryClient", "RegistryError", "RegistryLimited",
           "RegistryUnreachable"]
