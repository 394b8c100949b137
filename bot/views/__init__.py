"""Results -> messages: Block Kit for Slack, text for the console. No docker-py here."""
