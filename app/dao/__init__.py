"""Data-access objects: the only place SQL lives (one module per table family)."""
