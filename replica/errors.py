"""Exceptions that reach the user as one-line messages.

Every error caused by the input (a config, a command-line option, an
expression) is a :class:`ReplicaError` that names the field at fault and the
reason. The command line prints ``error: <field>: <reason>`` and exits with
status 2; nothing else about the run is written.
"""

from __future__ import annotations


class ReplicaError(Exception):
    """An error in what the user asked for; printed as one line."""

    def __init__(self, field: str, reason: str):
        # one line, whatever the quoted input holds (a YAML block scalar, a multi-line expression)
        self.field = _one_line(str(field))
        self.reason = _one_line(str(reason))
        field, reason = self.field, self.reason
        super().__init__(f"{field}: {reason}" if field else reason)


class ConfigError(ReplicaError):
    """A config (file, --set override or YAML model definition) is invalid."""


class ExpressionError(ConfigError):
    """An expression string is malformed or uses a forbidden name or syntax."""


class ModelError(ReplicaError):
    """A model cannot provide what was asked (e.g. a transition it does not define)."""


def _one_line(text: str) -> str:
    """``text`` with its line breaks shown as ' / ' (trailing ones dropped)."""
    return " / ".join(part.strip() for part in text.strip().splitlines()) if "\n" in text or "\r" in text else text
