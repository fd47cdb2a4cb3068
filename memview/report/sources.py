"""Links for the sources a decision cites (`Decision.source`): Linux man pages and the protocols the
semantics takes precedents from. The text of a source stays as written; known names in it become
links, so the page never claims a source the design does not cite."""

from __future__ import annotations

import re
from html import escape

MAN_PAGE = re.compile(r"\b([a-z_][a-z0-9_]*)\(([1-8])\)")
# Precedents the decisions cite by name, and where each is specified.
PRECEDENTS = {
    "vhost-user": "https://qemu-project.gitlab.io/qemu/interop/vhost-user.html",
    "vfio-user": "https://github.com/nutanix/libvfio-user/blob/master/docs/vfio-user.rst",
    "FUSE_SETUPMAPPING": "https://docs.kernel.org/filesystems/virtiofs.html",
    "memfd_create": "https://man7.org/linux/man-pages/man2/memfd_create.2.html",
    "F_SEAL_WRITE": "https://man7.org/linux/man-pages/man2/fcntl.2.html",
    "MAP_SHARED_VALIDATE": "https://man7.org/linux/man-pages/man2/mmap.2.html",
}
SEED_NOTE = "the 2020 linux-mm proposal (seed/memory-view-proposal.txt), quoted"


def man_url(name: str, section: str) -> str:
    return f"https://man7.org/linux/man-pages/man{section}/{name}.{section}.html"


def linked(source: str) -> str:
    """The source as HTML: man pages like mmap(2) and named precedents linked, the rest escaped."""
    pieces: list[tuple[int, int, str]] = []
    for match in MAN_PAGE.finditer(source):
        pieces.append((match.start(), match.end(), man_url(match.group(1), match.group(2))))
    for name, url in PRECEDENTS.items():
        for match in re.finditer(re.escape(name), source):
            if not any(lo <= match.start() < hi for lo, hi, _ in pieces):
                pieces.append((match.start(), match.end(), url))
    out, at = [], 0
    for lo, hi, url in sorted(pieces):
        out.append(escape(source[at:lo]))
        out.append(f'<a href="{escape(url)}">{escape(source[lo:hi])}</a>')
        at = hi
    out.append(escape(source[at:]))
    html = "".join(out)
    if source.startswith("seed:"):
        html = f'<abbr title="{escape(SEED_NOTE)}">seed</abbr>' + html[len("seed"):]
    return html
