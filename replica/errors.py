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
        self.field = field
        self.reason = reason
        super().__init__(f"{field}: {reason}" if field else reason)


class ConfigError(ReplicaError):
    """A config (file, --set override or YAML model definition) is invalid."""


class ExpressionError(ConfigError):
    """An expression string is malformed or uses a forbidden name or syntax."""


class ModelError(ReplicaError):
    """A model cannot provide what was asked (e.g. a transition it does not define)."""
