"""JUnit XML for conformance verdicts: each trace a test case, so CI systems list them."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from memview.errors import InputError
from memview.traces.conform import BACKEND_FAILED, DIVERGE, Verdict


def junit_xml(verdicts: list[Verdict], suite: str) -> str:
    failures = sum(v.status == DIVERGE for v in verdicts)
    errors = sum(v.status == BACKEND_FAILED for v in verdicts)
    root = ET.Element("testsuite", name=suite, tests=str(len(verdicts)), failures=str(failures),
                      errors=str(errors), time=f"{sum(v.seconds for v in verdicts):.3f}")
    for verdict in verdicts:
        case = ET.SubElement(root, "testcase", classname=suite, name=verdict.name, time=f"{verdict.seconds:.3f}")
        if verdict.status == DIVERGE:
            ET.SubElement(case, "failure", message=verdict.headline(), type="divergence").text = verdict.report()
        elif verdict.status == BACKEND_FAILED:
            ET.SubElement(case, "error", message=verdict.headline(), type="backend-failure").text = verdict.report()
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def write_junit(verdicts: list[Verdict], suite: str, path: Path) -> None:
    try:
        path.write_text(junit_xml(verdicts, suite), encoding="utf-8")
    except OSError as exc:
        raise InputError("--junit", f"{path}: {exc.strerror or exc}") from None
