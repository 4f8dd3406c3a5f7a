"""HTTP routes for the fairs domain: parse, authorise, call the service, render."""
