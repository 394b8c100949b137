"""Scheduled maintenance: prune and update jobs, their scheduler, and the notification outbox."""
