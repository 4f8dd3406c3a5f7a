"""Media rooms across workers (media homes) and the recordings they write."""
