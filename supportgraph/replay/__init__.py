"""Replay and debugging: timelines, forks, re-runs against current code, eval-case export."""
