"""Socket events for the fairs domain."""
