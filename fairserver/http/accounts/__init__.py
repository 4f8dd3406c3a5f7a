"""HTTP routes for the accounts domain: parse, authorise, call the service, render."""
