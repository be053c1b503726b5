"""Shared fixtures: the embedded model (loaded once per session) and the scripted model."""

from __future__ import annotations

import pytest

from mimir.runtime import settle_openmp_waiting

settle_openmp_waiting()  # before any test imports torch (pytest does not go through mimir.cli)

from mimir.models.scripted import ScriptedModel


@pytest.fixture(scope="session")
def embedded_model():
    """The real embedded SmolLM2-135M-Instruct on CPU, shared by the slow tests."""
    from mimir.models.local import LocalModel

    model = LocalModel(None, batch_size=16, device="cpu")
    yield model
    model.close()


@pytest.fixture
def scripted() -> ScriptedModel:
    return ScriptedModel()
