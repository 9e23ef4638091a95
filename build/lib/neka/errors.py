"""The one exception type that means "the user can fix this"."""


class NekaError(Exception):
    """A mistake the user can fix by changing config or data. Message = what to change."""
