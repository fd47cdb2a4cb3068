"""Progress lines from jobs running in other processes, printed as they happen.

Engine jobs run in worker processes, so their progress (which depth bmc is unrolling, which
induction round and opcode) travels through a queue that a multiprocessing manager serves; a
thread of the calling process prints each line on stderr as it arrives.
"""

from __future__ import annotations

import multiprocessing
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from rich.console import Console


@contextmanager
def progress_lines(console: Console) -> Iterator[Any]:
    """A queue to hand to jobs (Job.progress); every line put on it is printed until exit."""
    manager = multiprocessing.Manager()
    queue = manager.Queue()

    def printer() -> None:
        while (line := queue.get()) is not None:
            console.print(line)

    thread = threading.Thread(target=printer, name="memview-progress", daemon=True)
    thread.start()
    try:
        yield queue
    finally:
        queue.put(None)
        thread.join()
        manager.shutdown()
