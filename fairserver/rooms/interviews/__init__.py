"""Interviews: rooms, the waiting room and panel, chat, media policy and recording."""
