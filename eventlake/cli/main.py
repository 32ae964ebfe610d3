"""``eventlake`` (also ``python -m eventlake``): the operator CLI. Each command lives in its own module and
registers itself here; ``eventlake <command> --help`` lists its flags with their defaults."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from eventlake.catalog import catalog_command
from eventlake.cli.common import CliError, Parser, global_options, locate_stack
from eventlake.operations import (
    check_command,
    query_command,
    replay_command,
    reprocess_command,
    send_command,
    sizing_command,
    smoke_command,
)
from eventlake.simulator import demo_command

COMMANDS = (
    demo_command,
    check_command,
    query_command,
    catalog_command,
    smoke_command,
    send_command,
    replay_command,
    reprocess_command,
    sizing_command,
)


def parser() -> Parser:
    root = Parser(
        prog="eventlake",
        description="Operate an eventlake stack: run it locally, send events, check and query a lake, "
        "reprocess errors, replay the raw backup, smoke-test a deployed stack, size a load.",
    )
    commands = root.add_subparsers(dest="command", required=True, metavar="command", parser_class=Parser)
    parents = [global_options()]
    for command in COMMANDS:
        command.register(commands, parents)
    return root


def main(argv: Sequence[str] | None = None) -> int:
    """Exit status: 0 ok, 1 a check failed, 2 a usage or configuration error."""
    try:
        args = parser().parse_args(argv)
    except SystemExit as exc:  # argparse already printed its one line (or the help)
        return int(exc.code or 0)
    try:
        locate_stack(args)
        return int(args.run(args))
    except CliError as exc:
        for line in str(exc).splitlines():
            sys.stderr.write(f"eventlake {args.command}: error: {line}\n")
        return exc.code


if __name__ == "__main__":
    sys.exit(main())
