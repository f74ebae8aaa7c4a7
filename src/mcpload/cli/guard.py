"""What every command gets before its own code runs: one-line usage errors and sane numbers.

``main`` runs the Typer app in non-standalone mode so that Click's usage errors (an unknown option,
``--agents x``) become one line, ``mcpload: …``, and exit 2 like every other bad input, instead of
a framed box. ``guard_numbers`` wraps every command so that no number option may be NaN, infinite
or absurd (``--timeout nan``, ``--seed`` with 27 digits, ``--agents 10**23``), no ``--port`` outside
1 … 65535 and no ``--*timeout`` that is not positive: each option keeps its own finer checks, this is
the floor for all of them, present and future.
"""

from __future__ import annotations

import functools
import sys
from typing import Any

import typer

from mcpload import exit_codes
from mcpload.inputs import number_problem, show_number

# Click's exception classes, wherever this Typer keeps Click (its own copy since 0.2x, else click).
_MRO = {cls.__name__: cls for cls in typer.BadParameter.__mro__}
_USAGE_ERROR: type[Exception] = _MRO["UsageError"]
_CLICK_EXCEPTION: type[Exception] = _MRO["ClickException"]
_NO_ARGS: type[Exception] = getattr(sys.modules[_USAGE_ERROR.__module__], "NoArgsIsHelpError", None) or type(
    "_Never", (Exception,), {}
)
_ABORTS = tuple({typer.Abort, getattr(sys.modules[_USAGE_ERROR.__module__], "Abort", typer.Abort), KeyboardInterrupt})


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _rule_problem(name: str, value: Any) -> str | None:
    """Rules by option name, for every command alike: a port is 1 … 65535, a timeout is positive."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if name == "port" and not 1 <= value <= 65535:
        return "a port must be in 1 … 65535"
    if name.endswith("timeout") and not value > 0:
        return "a timeout must be positive"
    return None


def guard_numbers(command: Any) -> None:
    """Wrap the callback of ``command`` and of every subcommand to refuse NaN, inf and absurd numbers."""
    for sub in (getattr(command, "commands", None) or {}).values():
        guard_numbers(sub)
    if command.callback is None or getattr(command.callback, "_numbers_guarded", False):
        return
    names = {p.name: (p.opts[0] if getattr(p, "opts", None) and p.opts[0].startswith("-") else p.name.upper())
             for p in command.params if p.name}  # fmt: skip
    original = command.callback

    @functools.wraps(original)
    def checked(*args: Any, **kwargs: Any) -> Any:
        for key, value in kwargs.items():
            for item in value if isinstance(value, list | tuple) else (value,):
                problem = number_problem(item) or _rule_problem(key, item)
                if problem:
                    typer.echo(f"mcpload: {names.get(key, key)} {show_number(item)}: {problem}", err=True)
                    raise typer.Exit(exit_codes.USAGE)
        return original(*args, **kwargs)

    checked._numbers_guarded = True  # type: ignore[attr-defined]
    command.callback = checked


def main(app: typer.Typer) -> None:
    """Run ``app`` with one-line usage errors and a console that never shows a secret; exits with the
    command's code."""
    from mcpload.redaction import CONSOLE_SECRETS, RedactingStream, option_secrets

    CONSOLE_SECRETS.update(option_secrets(sys.argv[1:]))
    if not isinstance(sys.stdout, RedactingStream):
        sys.stdout, sys.stderr = RedactingStream(sys.stdout), RedactingStream(sys.stderr)
    command = typer.main.get_command(app)
    guard_numbers(command)
    try:
        code = command.main(prog_name="mcpload", standalone_mode=False)
    except _NO_ARGS as exc:  # bare ``mcpload``: the help, as before
        exc.show()  # type: ignore[attr-defined]
        sys.exit(exit_codes.USAGE)
    except _USAGE_ERROR as exc:
        ctx = getattr(exc, "ctx", None)
        where = f" (see '{ctx.command_path} --help')" if ctx is not None else ""
        typer.echo(f"mcpload: {_one_line(exc.format_message())}{where}", err=True)  # type: ignore[attr-defined]
        sys.exit(exit_codes.USAGE)
    except _CLICK_EXCEPTION as exc:  # a bad file argument and the like
        typer.echo(f"mcpload: {_one_line(exc.format_message())}", err=True)  # type: ignore[attr-defined]
        sys.exit(getattr(exc, "exit_code", 1))
    except _ABORTS:
        sys.exit(exit_codes.INTERRUPTED)
    sys.exit(code if isinstance(code, int) else 0)
