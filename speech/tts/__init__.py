"""Speech synthesisers (one vendor per module) and their phoneme timelines."""
