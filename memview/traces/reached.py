"""What a client's access reached, in words: the object and byte it touched, how it got there, and
what A's layout granted on that byte. `memview explain` prints it at every step that violates a
property, so a counterexample says what B got that it should not have."""

from __future__ import annotations

from memview.model.arguments import perms_words, who
from memview.model.constants import PERM_R, PERM_W, Outcome
from memview.model.context import Ctx
from memview.model.encodings import cached_entry
from memview.model.ops import Action
from memview.model.queries import granted_on, place_of
from memview.model.state import Obs, State

VERBS = {PERM_R: "read", PERM_W: "wrote"}


def reached(ctx: Ctx, pre: State, act: Action, obs: Obs, name_of: dict[int, str]) -> str | None:
    """One sentence for a successful client access (None for anything else)."""
    if act.name != "access" or act.proc == 0 or obs.outcome != Outcome.OK:
        return None
    addr, kind = act.arg("addr"), act.arg("kind")
    proc = pre.procs[act.proc]
    place = place_of(ctx, pre, proc, addr)
    in_page = addr & (ctx.config.page_size - 1)
    if place.raw:
        how, slot, byte = "through its own mapping of a raw fd", place.rng.obj, place.backing_byte
    else:
        how = f"through the view at offset {place.view_byte:#x}"
        entry = cached_entry(ctx.alg, proc, place.view_page)
        if entry.valid:  # a translation cached before the layout changed
            how += " (a translation it had cached)"
            slot = entry.obj
            byte = (entry.page << ctx.config.page_shift) + in_page
        else:
            slot, byte = place.rng.obj, place.backing_byte
    name = name_of.get(slot, f"object#{slot}")
    verb = VERBS.get(kind, "executed")
    seen = f" (value {obs.value:#04x})" if kind != PERM_W else ""
    configured, perms, _ = granted_on(ctx, pre, slot, byte >> ctx.config.page_shift)
    if not configured:
        grant = "no range of A's layout maps that byte"
    elif not perms & kind:
        grant = f"A's layout grants only {perms_words(perms)} there"
    else:
        grant = f"A's layout grants {perms_words(perms)} there"
    return f"{who(act.proc, ctx.config)} {verb} {name} byte {byte:#x}{seen} {how}; {grant}"

