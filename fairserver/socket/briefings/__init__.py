"""Socket events for the briefings domain."""
