"""Eval suites: YAML conversations with expectations, a runner, deepeval metrics, reports."""
