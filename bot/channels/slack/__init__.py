"""The Slack channel: Bolt listeners (app), Block Kit rendering (blocks), running (server)."""
