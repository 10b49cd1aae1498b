"""政策问答: cited, template-composed answers over Chinese policy documents."""
from __future__ import annotations

import logging
from pathlib import Path

from flask import Flask

from . import live, slack
from .config import load_settings
from .qa.engine import QAEngine
from .qa.generations import pointer_signature
from .store import Store, open_store, prepare


def create_app(config: dict | None = None, engine: QAEngine | None = None) -> Flask:
    """Settings -> engine -> app.extensions["qa"] -> blueprints. The only place that wires the app."""
    settings = load_settings(config)
    logging.basicConfig(level=settings["LOG_LEVEL"], format="%(asctime)s %(levelname)s %(name)s %(message)s")
    app = Flask(__name__, static_folder=None)  # the chat blueprint serves /assets/; no empty /static/ route
    app.config.update(settings)
    app.config["MAX_CONTENT_LENGTH"] = settings["MAX_BODY_BYTES"]
    app.json.ensure_ascii = False
    store = engine.store if engine is not None and isinstance(engine.store, Store) else open_store(settings)
    prepare(store, settings)
    if engine is None:
        index_dir = Path(settings["INDEX_DIR"]) if settings["INDEX_DIR"] else None
        signature = pointer_signature(index_dir)  # before opening: a generation published meanwhile is seen
        engine = QAEngine(Path(settings["CORPUS_DIR"]), Path(settings["PROMPTS_DIR"]), store=store, index_dir=index_dir)
        if index_dir:  # follow the generations `policy-qa add` and the upload API publish, without a restart
            engine = live.install(app, engine, settings, index_dir, signature)
    elif engine.store is not store:
        engine = engine.with_store(store)  # a prebuilt engine (tests share one) keeps its index
    app.extensions["qa"] = engine
    app.extensions["store"] = store

    from .web import admin, api, chat, documents, errors, feedback

    errors.register(app)
    slack.register(app, dedup=store)
    app.register_blueprint(api.bp)
    app.register_blueprint(chat.bp)
    app.register_blueprint(feedback.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(documents.bp)
    from .web import limits

    limits.register(app)  # after the routes: it wraps the question views
    return app
