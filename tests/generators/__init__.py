"""Scripts that generate the stored peer values under tests/ (see each script's docstring)."""
