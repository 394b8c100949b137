"""The Slack adapter: the Bolt app, its listeners, and how answers reach Slack."""
