"""smolagents tools the dialogue engine can give to agents (imported on use, not here)."""
