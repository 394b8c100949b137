"""Who a Slack user is beyond the request: the user groups (S...) that give them a role."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable

from slack_sdk import WebClient

log = logging.getLogger("dockops.identity")

MEMBERS_TTL_SECONDS = 300.0
# After a failed lookup, ask again soon rather than lock people out for five minutes.
FAILURE_TTL_SECONDS = 30.0


class UserGroups:
    """Members of user groups, from `usergroups.users.list`, cached for about five minutes.

    A lookup that fails counts as "not a member" (and is logged): a Slack outage can only
    lower someone's role, never raise it.
    """

    def __init__(self, client: WebClient, *, ttl: float = MEMBERS_TTL_SECONDS,
                 failure_ttl: float = FAILURE_TTL_SECONDS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.client = client
        self.ttl = ttl
        self.failure_ttl = failure_ttl
        self.clock = clock
        self._cache: dict[str, tuple[float, frozenset[str]]] = {}
        self._lock = threading.Lock()

    def groups_of(self, user_id: str, group_ids: Iterable[str]) -> frozenset[str]:
        """Which of `group_ids` the user belongs to."""
        return frozenset(group for group in group_ids if user_id in self.members(group))

    def members(self, group_id: str) -> frozenset[str]:
        now = self.clock()
        with self._lock:
            cached = self._cache.get(group_id)
        if cached and cached[0] > now:
            return cached[1]
        members, ttl = self._fetch(group_id)
        with self._lock:
            self._cache[group_id] = (now + ttl, members)
        return members

    def _fetch(self, group_id: str) -> tuple[frozenset[str], float]:
        try:
            response = self.client.usergroups_users_list(usergroup=group_id)
        except Exception as exc:
            error = getattr(getattr(exc, "response", None), "data", None) or exc
            log.warning("could not list the members of user group %s (treating the user as "
                        "not a member): %s", group_id, error)
            return frozenset(), self.failure_ttl
        return frozenset(response.get("users") or ()), self.ttl
