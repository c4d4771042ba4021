"""The errors SupportAgent raises to its callers (re-exported by supportgraph.runtime.agent,
where callers import them)."""


class InvalidMessage(ValueError):
    """The message cannot be processed (empty, too long, or nothing readable in it)."""


class MessageTooLong(InvalidMessage):
    """Longer than `Settings.max_message_chars`: one limit and one wording for every entry
    point (HTTP answers it with 413, the CLI prints it, the Python API raises it)."""


class NotSupportedByStore(RuntimeError):
    """The configured store backend cannot do this (forks, reruns and privacy export/erase
    copy or scan the SQLite store); the server answers 501 with this message."""


class NoPendingHandoff(RuntimeError):
    """An agent reply or release was sent to a thread that is not waiting for a human."""


class ReplayError(ValueError):
    """A replay request that cannot be done (unknown thread, turn out of range, ...)."""
