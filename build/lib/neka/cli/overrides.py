"""Korean values on the command line without quotes: `data.label_column=학점`, `data.drop_columns=[나이]`,
`-m data.label_column=학점,등급`.

Hydra's override grammar takes only ASCII letters unquoted, so those stop with a lexer error unless
typed as `"data.label_column='학점'"`. An override that Hydra cannot parse and that holds non-ASCII
characters is rewritten here the way the user would have quoted it: every unquoted run of
characters between the grammar's separators (`, [ ] { } ( ) =`) that holds a non-ASCII character
is put in single quotes. Overrides that parse are never touched, so no value that works today
changes its meaning. Hydra has no hook for this; its parser is only asked whether a spelling parses.
"""

from collections.abc import Sequence

from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.errors import HydraException

SEPARATORS = set(",[]{}()=")
ESCAPED = set("\\()[]{}:=, \t")  # what a backslash escapes in an unquoted value (Hydra's ESC token)
# Hydra's options that take the next argument as their value: that argument is not an override
VALUED_OPTIONS = {"--config-path", "-cp", "--config-name", "-cn", "--config-dir", "-cd", "--cfg", "-c",
                  "--package", "-p", "--info", "-i", "--experimental-rerun"}

_parser = OverridesParser.create()


def parses(override: str) -> bool:
    try:
        _parser.parse_override(override)
    except HydraException:  # OverrideParseException and the bare HydraException the parser raises
        return False
    return True


def quote_arguments(arguments: Sequence[str]) -> list[str]:
    """The command line with each unparseable non-ASCII override quoted; one that still does not
    parse stays as typed, so that Hydra reports it as the user wrote it."""
    quoted, takes_value = [], False
    for argument in arguments:
        is_override = not takes_value and not argument.startswith("-")
        takes_value = argument in VALUED_OPTIONS
        quoted.append(quote_override(argument) if is_override else argument)
    return quoted


def quote_override(override: str) -> str:
    if override.isascii() or parses(override):
        return override
    key, equals, value = override.partition("=")
    if not equals:
        return override
    rewritten = f"{key}={quote_runs(value)}"
    return rewritten if parses(rewritten) else override


def quote_runs(value: str) -> str:
    """Quoted strings and `${...}` interpolations are kept as they are; an interpolation inside a
    run goes into its quotes (`'결과_${now:%H}'`), where Hydra keeps it an interpolation."""
    pieces, run, position = [], "", 0
    while position < len(value):
        char = value[position]
        if char in "'\"":
            end = value.find(char, position + 1)
            end = len(value) if end < 0 else end + 1
            pieces += [_quote_run(run), value[position:end]]
            run, position = "", end
        elif value.startswith("${", position):
            end = value.find("}", position)
            end = len(value) if end < 0 else end + 1
            run, position = run + value[position:end], end
        elif char == "\\":
            run, position = run + value[position:position + 2], position + 2
        elif char in SEPARATORS:
            pieces += [_quote_run(run), char]
            run, position = "", position + 1
        else:
            run, position = run + char, position + 1
    pieces.append(_quote_run(run))
    return "".join(pieces).rstrip(" \t")  # Hydra drops trailing blanks of an unquoted value, not after quotes


def _quote_run(run: str) -> str:
    text = run.strip(" \t")
    if text.isascii() or any(run[i + 1:i + 2] in ESCAPED for i, char in enumerate(run) if char == "\\"):
        return run  # an escape would mean something else inside quotes: leave it for the error to show
    start = run.index(text)
    return f"{run[:start]}'{text}'{run[start + len(text):]}"
