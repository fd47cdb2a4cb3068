"""What every benchmark does with its rows: print an aligned table and write bench/results/NAME.json."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def report(name: str, rows: list[dict[str, Any]], columns: list[tuple[str, str]]) -> Path:
    """columns: (row key, header); text columns are left-aligned, numbers right-aligned."""
    widths = [max(len(header), *(len(str(r[key])) for r in rows)) for key, header in columns]

    def line(cells: list[Any]) -> str:
        aligned = (f"{c!s:<{w}}" if isinstance(c, str) else f"{c!s:>{w}}" for c, w in zip(cells, widths, strict=True))
        return "  ".join(aligned)

    print("  ".join(f"{header:<{w}}" for (_, header), w in zip(columns, widths, strict=True)))
    for r in rows:
        print(line([r[key] for key, _ in columns]))
    out = Path(__file__).parent / "results" / f"{name}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({"benchmark": name, "rows": rows}, indent=2) + "\n")
    print(f"wrote {out}")
    return out
