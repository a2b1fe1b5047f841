"""requirements."""
