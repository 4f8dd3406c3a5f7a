"""Socket events for the interviews domain."""
