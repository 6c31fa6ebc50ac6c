"""One conversational turn, streamed: ASR, perception, reply emotion, LLM sentences, voice, face and fMP4."""
