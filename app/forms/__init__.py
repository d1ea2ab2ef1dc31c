"""Flask-WTF forms, one module per area (field rules only)."""
