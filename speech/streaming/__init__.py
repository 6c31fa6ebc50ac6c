"""Streaming listening: voice activity detection, end-of-turn detection, partial and final transcripts."""
