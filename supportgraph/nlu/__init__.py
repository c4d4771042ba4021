"""Offline understanding: language, intent, entities, sentiment. No network, no downloads."""
