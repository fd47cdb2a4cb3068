"""The `memview` click group and `main`, which turns every failure into one line and an exit status."""

from __future__ import annotations

import sys

import click

from memview import __version__
from memview.checker.executors import ExecutorFailure
from memview.cli.output import EXIT_BAD_INPUT, EXIT_INTERNAL, EXIT_OK
from memview.errors import InputError


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="memview")
def cli() -> None:
    """A formal model and model-checker harness for the 2020 memory-view proposal."""


def main(argv: list[str] | None = None) -> None:
    try:
        cli.main(args=argv, prog_name="memview", standalone_mode=False)
    except InputError as exc:
        click.echo(f"memview: error: {exc}", err=True)
        sys.exit(EXIT_BAD_INPUT)
    except ExecutorFailure as exc:  # the cluster lost work (docs/distributed.md): not memview's bug to report
        click.echo(f"memview: error: {exc}", err=True)
        sys.exit(EXIT_INTERNAL)
    except click.exceptions.Abort:
        click.echo("memview: aborted", err=True)
        sys.exit(EXIT_BAD_INPUT)
    except click.ClickException as exc:
        click.echo(f"memview: error: {exc.format_message()}", err=True)
        sys.exit(EXIT_BAD_INPUT)
    except SystemExit:
        raise
    except KeyboardInterrupt:
        click.echo("memview: interrupted", err=True)
        sys.exit(EXIT_BAD_INPUT)
    except Exception as exc:  # a bug in memview, never the user's input: say so in one line
        where = exc.__traceback__
        while where is not None and where.tb_next is not None:
            where = where.tb_next
        at = f" at {where.tb_frame.f_code.co_filename}:{where.tb_lineno}" if where is not None else ""
        click.echo(f"memview: internal error: {type(exc).__name__}: {exc}{at} (please report it)", err=True)
        sys.exit(EXIT_INTERNAL)
    sys.exit(EXIT_OK)
