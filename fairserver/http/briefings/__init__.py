"""HTTP routes for the briefings domain: parse, authorise, call the service, render."""
