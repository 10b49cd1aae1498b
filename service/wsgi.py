"""gunicorn entry point: `gunicorn --preload service.wsgi:app` builds the index once, before forking."""
from . import create_app

app = create_app()
