"""Briefings: scheduling, the live room, chat, Q&A, the stage, recording and replay."""
