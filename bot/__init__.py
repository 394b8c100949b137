"""dockops: operate Docker from Slack with the docker CLI you already know."""

__version__ = "0.3.0"
