"""A regression corpus of input defects: each kind made from valid data, its exact outcome asserted."""
