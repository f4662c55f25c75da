"""Ward-level combination of indicator evidence into a score and a level (see docs/combination.md)."""
