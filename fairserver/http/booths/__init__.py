"""HTTP routes for the booths domain: parse, authorise, call the service, render."""
