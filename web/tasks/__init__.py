"""The officers' pages: inbox, starting a procedure, the task form, the instance file, delegations."""

from __future__ import annotations

from flask import Flask

from . import answer_by_page, attachment_page, common, delegation, drafts, figures, inbox, instance_page, task_page

__all__ = ["answer_by_page", "attachment_page", "delegation", "drafts", "figures", "inbox", "instance_page",
           "task_page"]


def init_app(app: Flask) -> None:
    app.register_blueprint(common.bp)
