"""Judging concrete transitions against the catalogue: shared by explicit search and replay."""

from __future__ import annotations

from memview.model.context import Ctx
from memview.model.ops import Action, Op
from memview.model.state import Obs, State
from memview.model.step import step
from memview.properties.catalogue import Property
from memview.properties.predicates import isol, perturb_unreadable

# The value every unreadable backing byte takes in ISOL's second run.
ISOL_PERTURBATION = 0xA5


def second_run(ctx: Ctx, pre: State, op: Op, perturbed: State | None = None) -> Obs:
    """What ISOL's second run observes: the same operation from pre with every byte no client may
    read set to ISOL_PERTURBATION (perturbed, when the caller has it already)."""
    other = perturbed if perturbed is not None else perturb_unreadable(ctx, pre, ISOL_PERTURBATION)
    _, other_obs = step(ctx, other, op)
    return other_obs


def violated_by(ctx: Ctx, properties: list[Property], pre: State, act: Action, op: Op, obs: Obs, post: State,
                perturbed: State | None = None) -> list[str]:
    """IDs of the properties this concrete transition violates.

    ISOL needs a second run: `perturbed` is pre with unreadable bytes changed (computed here when
    not given, so a caller judging many actions from one state can compute it once).
    """
    out = []
    for prop in properties:
        if prop.predicate is not None:
            if not prop.predicate(ctx, pre, op, obs, post):
                out.append(prop.id)
        elif prop.id == "ISOL" and act.proc != 0 and not isol(ctx, op, obs, second_run(ctx, pre, op, perturbed)):
            out.append(prop.id)
    return out
