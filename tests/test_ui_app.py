"""The app builds offline without loading a model; session state and the model cache behave."""

from __future__ import annotations

import copy
import subprocess
import sys

import pytest

gr = pytest.importorskip("gradio")

from mimir.errors import ConfigError  # noqa: E402
from mimir.models.scripted import ScriptedModel  # noqa: E402
from mimir.secrets import redact  # noqa: E402
from mimir.ui.context import ModelCache  # noqa: E402
from mimir.ui.session import Session  # noqa: E402


def _no_model(spec: str):
    raise AssertionError(f"build_app must not load a model (asked for {spec!r})")


def test_build_app_loads_no_model_and_has_every_tab(tmp_path):
    from mimir.ui.app import build_app

    demo = build_app(tmp_path, model_loader=_no_model)
    assert isinstance(demo, gr.Blocks)
    labels = [b.label for b in demo.blocks.values() if isinstance(b, gr.Tab)]
    for name in ("Knowledge", "Roles", "Generate", "Verify", "Train", "Evaluate", "Hub"):
        assert any(name in str(label) for label in labels), (name, labels)
    assert not any(isinstance(b, gr.LoginButton) for b in demo.blocks.values()), "LoginButton only on a Space"
    assert list(tmp_path.iterdir()) == [], "building the app must not create workspaces"


def test_login_button_appears_on_a_space(tmp_path, monkeypatch):
    from mimir.ui.app import build_app

    import gradio.oauth

    # What a Space with `hf_oauth: true` provides; nothing is contacted while building the app.
    monkeypatch.setenv("SYSTEM", "spaces")
    monkeypatch.setenv("SPACE_ID", "someone/mimir")
    for name, value in (("OAUTH_CLIENT_ID", "client"), ("OAUTH_CLIENT_SECRET", "secret"), ("OAUTH_SCOPES", "openid profile"),
                        ("OPENID_PROVIDER_URL", "http://127.0.0.1:9")):
        monkeypatch.setattr(gradio.oauth, name, value)
    demo = build_app(tmp_path, model_loader=_no_model)
    assert any(isinstance(b, gr.LoginButton) for b in demo.blocks.values())


def test_importing_the_ui_package_and_launcher_stays_cheap():
    code = "import sys, mimir.ui, mimir.ui.launch, mimir.ui.session, mimir.ui.context; " \
           "print(sorted(m for m in ('gradio', 'torch', 'transformers') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_sessions_get_separate_workspaces_and_hide_secrets(tmp_path):
    a, b = Session.new(tmp_path), Session.new(tmp_path)
    assert a.id != b.id and a.workspace != b.workspace
    a.set_secret("tavily", "tvly-SECRETSECRETSECRET")
    assert a.has_secret("tavily") and not b.has_secret("tavily")
    assert "SECRETSECRET" not in repr(a)
    assert "SECRETSECRET" not in redact("key is tvly-SECRETSECRETSECRET")
    assert copy.deepcopy(a).secret("tavily") == "tvly-SECRETSECRETSECRET"
    assert a.set_secret("tavily", "") is False and a.secret("tavily") is None


def test_reopen_checks_the_workspace_id(tmp_path):
    s = Session.new(tmp_path)
    s.workspace  # noqa: B018 - creates the folder
    assert Session.reopen(tmp_path, s.id).workspace == s.workspace
    for bad in ("../etc", "s-nothere00", "", "S-UPPER000"):
        with pytest.raises(ConfigError):
            Session.reopen(tmp_path, bad)


def test_model_cache_loads_each_spec_once_and_evicts(tmp_path):
    loaded: list[str] = []
    closed: list[str] = []

    class Tracked(ScriptedModel):
        def close(self) -> None:
            closed.append(self.name)

    def loader(spec: str):
        loaded.append(spec)
        model = Tracked(default=f"from {spec}")
        model.name = spec
        return model

    cache = ModelCache(loader, capacity=2)
    assert cache.get("a").chat([{"role": "user", "content": "hi"}]).text == "from a"
    cache.get("a")
    cache.get("b")
    cache.get("c")
    assert loaded == ["a", "b", "c"] and closed == ["a"] and cache.loaded() == ["b", "c"]


def test_reopen_handler_reattaches_files_and_keeps_this_browsers_choices(tmp_path):
    from mimir.ui.app import _reopen
    from mimir.ui.context import AppContext

    ctx = AppContext(runs_root=tmp_path, models=ModelCache(_no_model))
    old = Session.new(tmp_path)
    run = old.path("train", "mimir-lora", "status.json")
    run.write_text('{"state": "running", "pid": null}')
    now = Session.new(tmp_path)
    now.model_spec, now.generation = "endpoint:m@http://127.0.0.1:1/v1", {"domain": "legal"}
    now.set_secret("tavily", "tvly-reopenreopenreopen")
    reopened, text = _reopen(ctx)(now, old.id)
    assert reopened.id == old.id and old.id in text
    assert reopened.model_spec == now.model_spec and reopened.generation == {"domain": "legal"}
    assert reopened.secret("tavily") == "tvly-reopenreopenreopen"
    assert reopened.train_run == str(run.parent)
    with pytest.raises(gr.Error, match="no workspace"):
        _reopen(ctx)(now, "s-0000000000000000")
