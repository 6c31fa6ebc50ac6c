"""Speech recognisers (one vendor per module)."""
