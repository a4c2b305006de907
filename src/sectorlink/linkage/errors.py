"""Errors the linkage layer raises for problems a user can fix."""

from __future__ import annotations


class LinkageError(Exception):
    """Base class: the message is meant for the user, without a traceback."""


class LinkageInputError(LinkageError):
    """The warehouse or an input file cannot be linked as it is."""


class TruthFileError(LinkageError):
    """A truth file is missing, malformed or names records the warehouse lacks."""
