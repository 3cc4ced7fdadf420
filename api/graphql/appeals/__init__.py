"""Appeals: filed by (or for) the affected account owner, queued, claimed and decided."""
