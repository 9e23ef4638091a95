"""The one exception type that means "the user can fix this", and the one line it is shown in."""


class NekaError(Exception):
    """A mistake the user can fix by changing config or data. Message = what to change."""


def one_line(error: BaseException | str, limit: int | None = None) -> str:
    """A message on one line, cut to `limit` characters: errors from pandas, torch or the hub span
    several lines, and neka shows a user error as the single line `neka: error: ...`."""
    return " ".join(str(error).split())[:limit]
