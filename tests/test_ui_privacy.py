"""Workspaces are private: nothing under the runs folder is served by URL, reopening needs the
owner when the app has logins, messages carry no server paths, uploads are removed after use."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

gr = pytest.importorskip("gradio")
httpx = pytest.importorskip("httpx")

from mimir.errors import ConfigError  # noqa: E402
from mimir.ui.session import Session  # noqa: E402


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _no_model(spec: str):
    raise AssertionError("no model is needed here")


@pytest.fixture
def served(tmp_path, monkeypatch):
    """The real app on loopback, with one workspace holding a private document."""
    from mimir.ui.app import build_app, launch_kwargs
    from mimir.ui.launch import QUIET_ENV

    for key, value in QUIET_ENV.items():
        monkeypatch.setenv(key, value)
    runs = tmp_path / "runs"
    session = Session.new(runs)
    secret = session.path("knowledge", "documents", "secret.md")
    secret.write_text("the vault code is 4711\n", encoding="utf-8")
    demo = build_app(runs, model_loader=_no_model)
    port = _free_port()
    demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True,
                **launch_kwargs(demo))
    try:
        yield f"http://127.0.0.1:{port}", secret, runs
    finally:
        demo.close()


def test_a_workspace_file_is_refused_by_url_without_the_session(served):
    base, secret, runs = served
    with httpx.Client(timeout=30) as client:
        for form in (str(secret.resolve()), str(secret), f"{runs}/{secret.relative_to(runs)}"):
            reply = client.get(f"{base}/gradio_api/file={form}")
            assert reply.status_code in (403, 404), (form, reply.status_code)
            assert "4711" not in reply.text
        # the app itself is up (the refusal is not just a dead server)
        assert client.get(f"{base}/").status_code == 200


def test_login_guards_the_app_and_owners_reopen_only_their_workspaces(tmp_path, monkeypatch):
    from mimir.ui.app import build_app, launch_kwargs
    from mimir.ui.launch import QUIET_ENV, parse_auth

    for key, value in QUIET_ENV.items():
        monkeypatch.setenv(key, value)
    assert parse_auth(["ann:pw-ann-123", "bob:pw-bob-456"]) == [("ann", "pw-ann-123"), ("bob", "pw-bob-456")]
    with pytest.raises(ConfigError, match="USER:PASS"):
        parse_auth(["ann"])
    demo = build_app(tmp_path / "runs", model_loader=_no_model)
    port = _free_port()
    demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True,
                **launch_kwargs(demo, auth=[("ann", "pw-ann-123")]))
    try:
        with httpx.Client(timeout=30) as client:
            config = client.get(f"http://127.0.0.1:{port}/config")
            assert config.status_code in (401, 403) or "auth_required" in config.text
            bad = client.post(f"http://127.0.0.1:{port}/login", data={"username": "ann", "password": "nope"})
            assert bad.status_code >= 400
            good = client.post(f"http://127.0.0.1:{port}/login", data={"username": "ann", "password": "pw-ann-123"})
            assert good.status_code < 400
    finally:
        demo.close()

    ann = Session.new(tmp_path / "runs", owner="ann")
    ann.path("knowledge", "x.txt").write_text("x", encoding="utf-8")
    assert Session.reopen(tmp_path / "runs", ann.id, owner="ann").workspace == ann.workspace
    for intruder in ("bob", ""):
        with pytest.raises(ConfigError, match="no workspace") as err:
            Session.reopen(tmp_path / "runs", ann.id, owner=intruder)
        assert str(tmp_path) not in str(err.value)


def test_messages_never_show_server_paths(tmp_path):
    from mimir.ui.common import as_ui_error
    from mimir.ui.text import register_private_root, status

    runs = (tmp_path / "runs").resolve()
    register_private_root(runs)
    session = Session.new(runs)
    text = status(f"Training started in {session.workspace / 'train' / 'mimir-lora'}", "ok")
    assert str(tmp_path) not in text and "train/mimir-lora" in text
    err = as_ui_error(FileNotFoundError(f"missing {runs / session.id / 'knowledge' / 'manifest.json'}"))
    assert str(tmp_path) not in err.message and "knowledge/manifest.json" in err.message
    # validation errors are not logged as tracebacks
    assert err.print_exception is False
    assert as_ui_error(gr.Error("Pick a file first.")).print_exception is False


def test_uploaded_files_are_removed_after_they_are_ingested(tmp_path):
    from mimir.ui.knowledge_tab import add_files

    session = Session.new(tmp_path / "runs")
    upload_dir = tmp_path / "gradio-upload" / "abc123"
    upload_dir.mkdir(parents=True)
    doc = upload_dir / "rota.md"
    doc.write_text("# Rota\n\nDr. Felix Moreau covers the night shift in week 2.\n", encoding="utf-8")
    report, rows, summary = add_files(session, [str(doc)])
    assert "rota.md" in report and rows
    assert not doc.exists(), "the uploaded temp copy must be deleted once ingested"
    assert (session.knowledge_dir / "documents").is_dir()
    assert str(tmp_path) not in report + summary
