"""Helpers of the search tests: a database without search indexes, honest paraphrases of action briefs.

:func:`drop_search_indexes` leaves the session's server as the other tests
expect it (``clear_database`` deletes nodes, not indexes, and one graph holds
one encoder's embeddings). :func:`paraphrase` rewrites an action brief by
fixed rules -- a verb synonym, articles added, a filler word, two actions
swapped -- so that the result is never the brief itself.
"""

from __future__ import annotations

__all__ = ["drop_search_indexes", "paraphrase", "VERB_SYNONYMS"]

VERB_SYNONYMS: dict[str, str] = {
    "open": "open up", "demonstrate": "show", "show": "display", "insert": "put", "add": "put in",
    "place": "put", "point": "gesture", "hold": "grip", "operate": "use", "press": "push", "turn": "rotate",
    "display": "show", "pull": "tug", "adjust": "tweak", "explain": "describe", "clean": "wash",
    "pour": "tip", "mix": "stir", "whisk": "beat", "speak": "talk", "rotate": "turn", "crack": "break",
    "remove": "take off", "transfer": "move", "flip": "turn over", "inspect": "examine", "lift": "raise",
    "prepare": "make", "handle": "manipulate", "cut": "slice", "spray": "spritz", "assemble": "put together",
    "install": "fit", "touch": "tap", "attach": "connect", "close": "shut", "examine": "inspect",
    "detach": "disconnect", "move": "shift", "raise": "lift", "connect": "attach", "apply": "put on",
    "replace": "swap", "sprinkle": "scatter", "present": "show", "describe": "explain", "play": "perform",
    "peel": "strip", "run": "jog", "pass": "hand", "release": "let go of", "drop": "let fall", "grab": "take",
    "take": "grab", "wipe": "clean", "stir": "mix", "put": "place", "use": "operate", "check": "inspect",
    "gesture": "motion", "give": "offer", "pan": "sweep", "retrieve": "fetch", "pick": "grab", "tie": "knot",
    "coat": "cover", "arrange": "organize", "unscrew": "loosen", "activate": "switch on", "fill": "load",
}
_FILLERS = ("carefully", "now", "then", "slowly")
_PARTICLES = {"up", "out", "off", "on", "over", "down", "away", "back"}
_NO_ARTICLE = {"and", "into", "around", "to", "at", "with", "the", "a", "an", "in", "onto", "from", "of", "left",
               "right", "for", "through", "its", "his", "her", "their", "two", "three", "both"} | _PARTICLES


def paraphrase(brief: str, i: int) -> str:
    """The ``i``-th rule set's paraphrase of an action brief (deterministic, never the brief).

    Rules: ``VERB and VERB ...`` swapped (odd ``i``); the leading verb replaced
    by a synonym; ``the`` added before its object; a filler word in front
    (``i % 4`` of 1 or 2); ``go ahead and`` in front if nothing else applied.

    Examples:
        >>> paraphrase("Cut bread", 0)
        'slice the bread'
        >>> paraphrase("Open and close locker door", 1)
        'now shut and open the locker door'
    """
    words = brief.lower().replace("\u2011", "-").split()
    if words[:2] == ["pick", "up"]:
        words = words[1:]
        words[0] = "pick"
    if i % 2 == 1 and len(words) >= 3 and words[1] == "and" and words[0] in VERB_SYNONYMS \
            and words[2] in VERB_SYNONYMS:
        words[0], words[2] = words[2], words[0]
    if words and words[0] in VERB_SYNONYMS:
        verb = 1 + (len(words) > 1 and words[1] in _PARTICLES)
        # the object of the last verb of a "VERB and VERB" head
        at = verb + 2 if len(words) > verb + 1 and words[verb] == "and" and words[verb + 1] in VERB_SYNONYMS else verb
        if len(words) > at and words[at] not in _NO_ARTICLE:
            words.insert(at, "the")
        words = VERB_SYNONYMS[words[0]].split() + words[1:]
    text = " ".join(words)
    if i % 4 in (1, 2):
        text = f"{_FILLERS[i % len(_FILLERS)]} {text}"
    if text == " ".join(brief.lower().split()):
        text = f"go ahead and {text}"
    return text


def drop_search_indexes(driver, database: str = "neo4j") -> None:
    """Drop every full-text and vector index of the database."""
    records, _, _ = driver.execute_query(
        "SHOW INDEXES YIELD name, type WHERE type IN $types RETURN name", {"types": ["FULLTEXT", "VECTOR"]},
        database_=database)
    for record in records:
        driver.execute_query("DROP INDEX $name IF EXISTS", {"name": record["name"]}, database_=database)
