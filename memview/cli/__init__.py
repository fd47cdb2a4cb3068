"""The `memview` command line: designs, properties, check, prove, diff, replay, conform, fuzz, graph, explain,
generate, corpus check, mutants, report; one module per command or family of commands.

Exit codes: 0 all hold, 1 a violation, 2 bad input (one line on stderr, no traceback), 3 an
internal error of memview (one line naming where, never a traceback).
"""

from __future__ import annotations

from memview.cli import check, conform, corpus, designs, diff, explain, fuzz, graph, mutants, report
from memview.cli.program import cli, main

for command in (designs.designs, designs.properties, check.check, check.prove, diff.diff, explain.explain,
                conform.replay, conform.conform, fuzz.fuzz, corpus.corpus, graph.graph, graph.generate,
                mutants.mutants, report.report):
    cli.add_command(command)

__all__ = ["cli", "main"]
