"""Replay and debugging as people see it: the timeline (redacted) and a thread exported as an
eval case. Forks and re-runs are SupportAgent.fork / SupportAgent.rerun (supportgraph/runtime)."""
