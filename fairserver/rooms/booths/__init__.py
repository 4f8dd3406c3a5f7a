"""Booths: the profile, jobs, the live booth, its queue, calls and candidate view."""
