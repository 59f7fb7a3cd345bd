"""Videos for the viewer and timeline tests: a full binary tree whose segments carry many distinct verbs."""

from __future__ import annotations

from tests import factories as f

__all__ = ["VERBS", "many_verbs_row"]

#: Distinct verbs whose lemma is themselves (more than ``tab20``'s 20 colours).
VERBS = ("add", "adjust", "apply", "attach", "bake", "blend", "boil", "brush", "check", "chop", "clean", "close",
         "cook", "cover", "cut", "drain", "dry", "fill", "flip", "fold", "fry", "grate", "heat", "insert", "knead",
         "lift", "measure", "mix", "open", "pour")


def many_verbs_row(uid: str, depth: int = 5, verbs: tuple[str, ...] = VERBS, duration: float = 256.0) -> dict:
    """A full binary tree of ``depth`` levels below the root; node ``k`` (in time order) does ``verbs[k % len]``.

    Every segment lasts at least 4 s (with the defaults), so every one has a
    ``gpt`` annotation, and with it a verb.
    """
    splits: dict[str, float] = {}

    def split(path: str, start: float, end: float, level: int) -> None:
        if level < depth:
            mid = (start + end) / 2
            splits[path] = mid
            split(path + "0", start, mid, level + 1)
            split(path + "1", mid, end, level + 1)

    split("", 0.0, duration, 0)
    row = f.video_row(uid, splits=splits, duration=duration)
    ordered = sorted(row["nodes"], key=lambda node: (node["start"], node["level"]))
    for k, node in enumerate(ordered):
        verb = verbs[k % len(verbs)]
        node["gpt"] = {"summary": {"brief": f"summary of step {k}", "detailed": f"Step {k} in detail."},
                       "action": {"brief": f"{verb.capitalize()} the thing {k}", "detailed": f"{verb} it.",
                                  "actor": "a cook"}}
        node["plm_caption"] = f"segment number {k} of {uid}"
    return row
