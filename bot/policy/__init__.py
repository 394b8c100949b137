"""The one policy layer: who may do what, on which host, with which run options."""

from bot.policy.access import Actor, check_channel, group_ids, role_of
from bot.policy.gate import authorize, role_on
from bot.policy.hosts import host_access, role_for_host
from bot.policy.run import check_run

__all__ = ["Actor", "authorize", "check_channel", "check_run", "group_ids", "host_access",
           "role_for_host", "role_of", "role_on"]
