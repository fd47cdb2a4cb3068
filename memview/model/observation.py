"""Observations in readable form ("ok 3", "EINVAL", "SIGBUS/BUS_ADRERR") and back."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from memview.errors import InputError
from memview.model.constants import SIGNAL_CODE_NAMES, Errno, Outcome, Signal
from memview.model.state import Obs
from memview.model.words import bigint, parse_word


@dataclass(frozen=True)
class Observation:
    outcome: str  # "ok", "errno" or "signal"
    value: int  # the result, errno number or signal number
    code: int = 0  # si_code for signals

    @staticmethod
    def of(obs: Obs) -> Observation:
        """From a concrete Obs."""
        return Observation(Outcome(obs.outcome).name.lower(), int(obs.value), int(obs.code))

    @property
    def name(self) -> str:
        if self.outcome == "errno":
            return Errno(self.value).name if self.value in Errno._value2member_map_ else f"errno {self.value}"
        if self.outcome == "signal":
            signame = Signal(self.value).name if self.value in Signal._value2member_map_ else f"signal {self.value}"
            code = SIGNAL_CODE_NAMES.get((self.value, self.code), str(self.code))
            return f"{signame}/{code}"
        return f"ok {self.value:#x}" if self.value >= 4096 else f"ok {self.value}"

    @property
    def ok(self) -> bool:
        return self.outcome == "ok"

    def __str__(self) -> str:
        return self.name

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"outcome": self.outcome}
        if self.outcome == "ok":
            out["value"] = bigint(self.value)
        elif self.outcome == "errno":
            out["errno"] = self.name
        else:
            signame, code = self.name.split("/")
            out["signal"] = signame
            out["si_code"] = code
        return out

    @staticmethod
    def from_json(data: Any, place: str) -> Observation:
        if not isinstance(data, dict):
            raise InputError(place, "expected an observation object")
        outcome = data.get("outcome")
        if outcome == "ok":
            return Observation("ok", parse_word(data.get("value"), f"{place}.value"))
        if outcome == "errno":
            name = data.get("errno")
            if not isinstance(name, str) or name not in Errno.__members__:
                raise InputError(f"{place}.errno", f"unknown errno {name!r}")
            return Observation("errno", int(Errno[name]))
        if outcome == "signal":
            signame, code = data.get("signal"), data.get("si_code")
            if not isinstance(signame, str) or signame not in Signal.__members__:
                raise InputError(f"{place}.signal", f"unknown signal {signame!r}")
            signo = int(Signal[signame])
            codes = {name: c for (s, c), name in SIGNAL_CODE_NAMES.items() if s == signo}
            if not isinstance(code, str) or code not in codes:
                raise InputError(f"{place}.si_code", f"unknown si_code {code!r} for {signame}")
            return Observation("signal", signo, codes[code])
        raise InputError(f"{place}.outcome", f"expected ok, errno or signal, got {outcome!r}")
