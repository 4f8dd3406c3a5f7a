"""HTTP routes for the interviews domain: parse, authorise, call the service, render."""
