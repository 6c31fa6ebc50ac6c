"""Voice affect: pitch, energy, rate and voice-quality features of the user's speech, and a VAD estimate."""
