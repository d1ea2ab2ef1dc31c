"""Origin: the driving-school back-office. `create_app` builds the Flask app."""
from app.bootstrap import create_app

__all__ = ["create_app"]
