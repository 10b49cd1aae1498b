"""政策问答: cited, template-composed answers over Chinese policy documents."""
from __future__ import annotations

import logging
from pathlib import Path

from flask import Flask

from .config import load_settings
from .qa.engine import QAEngine


def create_app(config: dict | None = None, engine: QAEngine | None = None) -> Flask:
    """Settings -> engine -> app.extensions["qa"] -> blueprints. The only place that wires the app."""
    settings = load_settings(config)
    logging.basicConfig(level=settings["LOG_LEVEL"], format="%(asctime)s %(levelname)s %(name)s %(message)s")
    app = Flask(__name__)
    app.config.update(settings)
    app.config["MAX_CONTENT_LENGTH"] = settings["MAX_BODY_BYTES"]
    app.json.ensure_ascii = False
    index_dir = Path(settings["INDEX_DIR"]) if settings["INDEX_DIR"] else None
    app.extensions["qa"] = engine or QAEngine(
        Path(settings["CORPUS_DIR"]), Path(settings["PROMPTS_DIR"]), index_dir=index_dir
    )

    from .web import api, errors

    errors.register(app)
    app.register_blueprint(api.bp)
    return app
