"""A PNG of one of the report's SVG pictures, taken by headless Chromium (`make browser` installs
Debian's): how the README's picture is made (docs/report.md).

    python -m memview.report.snapshot REPORT/pictures/NAME.svg docs/pictures/NAME.png

Chromium is started the way this machine's closed network needs: no background networking,
component updates or sync, a fresh profile, and the sandbox off as we may run as root.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from memview.errors import InputError

BROWSERS = ("chromium", "chromium-browser", "google-chrome")
HEADLESS_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--hide-scrollbars")
SECONDS = 60.0
SIZE = re.compile(r'<svg[^>]*\swidth="(\d+)"[^>]*\sheight="(\d+)"')


def browser() -> str:
    for name in BROWSERS:
        found = shutil.which(name)
        if found:
            return found
    raise InputError("snapshot", "headless Chromium is not installed: run 'make browser' (as root) or "
                     "'apt-get install chromium'")


def snapshot(svg: Path, png: Path) -> None:
    try:
        text = svg.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(str(svg), exc.strerror or "cannot read") from None
    size = SIZE.search(text)
    if size is None:
        raise InputError(str(svg), "not one of memview's SVG pictures (no width and height on <svg>)")
    if not png.parent.is_dir():
        raise InputError(str(png), f"no such directory {png.parent}")
    width, height = size.groups()
    with tempfile.TemporaryDirectory(prefix="memview-chromium-") as profile:
        argv = [browser(), *HEADLESS_FLAGS, f"--user-data-dir={profile}", f"--screenshot={png.resolve()}",
                f"--window-size={width},{height}", svg.resolve().as_uri()]
        try:
            done = subprocess.run(argv, capture_output=True, text=True, timeout=SECONDS, check=False)
        except subprocess.TimeoutExpired:
            raise InputError("snapshot", f"Chromium took more than {SECONDS:g}s") from None
    if done.returncode != 0 or not png.is_file():
        last = (done.stderr.strip().splitlines() or ["no message"])[-1]
        raise InputError("snapshot", f"Chromium exited with status {done.returncode}: {last}")


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        print("usage: python -m memview.report.snapshot PICTURE.svg OUT.png", file=sys.stderr)
        return 2
    try:
        snapshot(Path(args[0]), Path(args[1]))
    except InputError as exc:
        print(f"memview: error: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {args[1]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
