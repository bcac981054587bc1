"""The error services raise for bad input: every problem, keyed by the field it concerns."""

from __future__ import annotations


class InputError(Exception):
    """Raised before anything is written; ``errors`` maps field name ('' for the whole form) to messages."""

    def __init__(self, errors: dict[str, list[str]]):
        self.errors = errors
        super().__init__("; ".join(f"{k or 'form'}: {' '.join(v)}" for k, v in errors.items()))

    @classmethod
    def single(cls, field: str, message: str) -> InputError:
        return cls({field: [message]})
