"""Training the crisis detector's fine-tuned reader (needs torch; the product runs the result in numpy)."""
