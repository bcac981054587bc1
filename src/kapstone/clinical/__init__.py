"""The pure clinical core: frozen dataclasses and pure functions, no Django, no I/O, no clock reads.

Every rule, threshold and instrument here names its source key from
``docs/clinical-reference.md``; values the reference marks UNVERIFIED are clinic policy, passed in.
"""
