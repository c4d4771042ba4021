"""SupportAgent and what stands behind it: the turn loop, transcript, locks, checkpointer,
branches, privacy and sandboxes. Server, CLI, replay and evals use only SupportAgent."""
