"""Files generated from the code and committed (JSON Schemas): print, rewrite or check them."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path


def generated_file_main(prog: str, description: str, path: Path, render: Callable[[], str],
                        argv: list[str] | None = None) -> int:
    """`prog` prints the file's current text; `--write` rewrites it; `--check` exits 1 if stale."""
    regenerate = f"python -m {prog.removeprefix('python -m ')} --write"
    parser = argparse.ArgumentParser(prog=prog, description=description)
    what = parser.add_mutually_exclusive_group()
    what.add_argument("--write", action="store_true", help=f"rewrite {path.name} beside this module")
    what.add_argument("--check", action="store_true", help=f"exit 1 if {path.name} is not up to date")
    args = parser.parse_args(argv)
    text = render()
    if args.write:
        path.write_text(text, encoding="utf-8")
        print(f"wrote {path}")
    elif args.check:
        try:
            committed = path.read_text(encoding="utf-8")
        except OSError as error:
            print(f"{path}: cannot read ({error.strerror}); run `{regenerate}`", file=sys.stderr)
            return 1
        if committed != text:
            print(f"{path} is out of date; run `{regenerate}`", file=sys.stderr)
            return 1
    else:
        sys.stdout.write(text)
    return 0
