"""Chat-model backends behind one protocol (see :mod:`mimir.models.base`)."""

from mimir.models.base import ChatModel, Conversation, GenerationSettings, Message, Reply
from mimir.models.registry import ModelConfig, load_model, register_backend

__all__ = [
    "ChatModel",
    "Conversation",
    "GenerationSettings",
    "Message",
    "ModelConfig",
    "Reply",
    "load_model",
    "register_backend",
]
