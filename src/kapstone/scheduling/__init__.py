"""The pure scheduling core (CP-SAT model and an independent checker); no Django, no I/O."""
