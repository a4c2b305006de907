"""Errors of the registry. Each message names what is wrong, for people to read."""

from __future__ import annotations


class RegistryError(Exception):
    """Base class of the registry's errors."""


class InvalidInput(RegistryError, ValueError):
    """A value that cannot be stored: wrong vocabulary, dates out of order, empty name."""


class NotFound(RegistryError, LookupError):
    """A named organisation, project, data set, agreement or user that does not exist."""


class Duplicate(RegistryError):
    """Something with the same name (ignoring case and spacing) already exists."""
