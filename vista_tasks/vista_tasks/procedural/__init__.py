"""Offline procedural task generators (deterministic per seed, with oracle solutions)."""

PROCEDURAL_TASKS: list = []
