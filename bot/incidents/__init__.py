"""Incidents: engine events (deaths, OOM kills, failing health checks, restart loops) become one
Slack thread each, with buttons that carry commands.

    rules     which events of which containers a `[[alerts]]` rule takes, quiet hours
    notices   what an incident says, as data (rendered at delivery by bot/views/incidents.py)
    tracker   the state machine: group, count, detect loops and recoveries; queue notices
    follower  one thread per host following `docker events` from a persisted cursor
    service   starts and stops the followers in `dockops serve`
"""
