"""Socket events for the booths domain."""
