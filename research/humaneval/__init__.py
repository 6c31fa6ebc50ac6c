"""Human evaluation: blinded, randomised A/B pairs of two variants' replies for raters, and their ratings back."""
