"""The ``dualnet`` command: fit, certify, patterns and reproduce (one module per subcommand).

Mistakes in the command line or its files print one line to stderr and exit with status 2;
errors the library raises on the data (ValueError, TypeError, MemoryError) exit with status 1.
"""

from __future__ import annotations

import argparse
import sys

from . import certify, fit, patterns, reproduce
from ._common import UsageError

__all__ = ["main"]

_COMMANDS = {"fit": fit, "certify": certify, "patterns": patterns, "reproduce": reproduce}


class _Parser(argparse.ArgumentParser):
    """argparse with a one-line error (no usage block): 'dualnet fit: error: ...'."""

    def error(self, message):
        raise UsageError(f"{self.prog}: error: {message} (see '{self.prog} --help')")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="dualnet",
        description="Train regularized two-layer ReLU networks to certified global optimality "
        "through convex duality, certify trained networks, and reproduce the experiments of "
        "Ergen & Pilanci, Convex Duality of Deep Neural Networks.",
    )
    from .. import __version__

    parser.add_argument("--version", action="version", version=f"dualnet {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name, module in _COMMANDS.items():
        module.add_parser(sub)
    return parser


def main(argv=None) -> int:
    """Run the command line; returns the exit status."""
    parser = build_parser()
    prog = "dualnet"
    try:
        args = parser.parse_args(argv)
        if args.command is None:
            parser.print_help(sys.stderr)
            return 2
        prog = f"dualnet {args.command}"
        return int(_COMMANDS[args.command].run(args) or 0)
    except UsageError as exc:
        message = str(exc)
        if not message.startswith("dualnet"):
            message = f"{prog}: error: {message}"
        print(message, file=sys.stderr)
        return 2
    except (ValueError, TypeError, MemoryError) as exc:
        # The library names the argument and the shapes in its messages; only the first line.
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        print(f"{prog}: error: {text}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"\n{prog}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 1


def console_main() -> None:
    """Entry point of the ``dualnet`` console script."""
    sys.exit(main())
