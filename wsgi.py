"""The WSGI entry point for gunicorn and `flask run`."""
from forum import create_app

app = create_app()
