"""Texts shared by the feature tests."""

TEXTS = [
    "A man slices bread on a wooden board.",
    "The woman cracks 2 eggs into a bowl, then whisks them!",
    "Caf\u00e9 au lait \u2014 poured slowly",
    "soft\u2011boiled EGGS and toast soldiers",
    "\uff26\uff55\uff4c\uff4c\uff37\uff49\uff44\uff54\uff48 letters",
    "It's the cook\u2019s hand",
    "stra\u00dfe \u00c9COLE na\u00efve",
    "ab12cd__ef",
]
EMPTY = [None, "", "   ", "123 ... !!", "\u2014"]
