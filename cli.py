"""Command line: `flask <command>` (FLASK_APP=cli via .flaskenv), `python cli.py <command>`, or from
another directory `flask --app /srv/origin/cli <command>`. The commands live in app/commands/ (one module per area) and are
registered by create_app itself.
"""
from flask.cli import FlaskGroup

from app.bootstrap import create_app

cli = FlaskGroup(create_app=create_app, help="Origin driving-school back-office commands.")

if __name__ == "__main__":
    cli()
