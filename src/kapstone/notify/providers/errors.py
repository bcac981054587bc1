"""The one error every provider raises, so the sender can decide to retry without knowing whose."""

from __future__ import annotations


class SendError(Exception):
    """A send that did not happen. ``code`` is the provider's error code or an exception's class
    name: never the text of the provider's answer, which may echo the message back."""

    def __init__(self, code: str, *, retryable: bool) -> None:
        super().__init__(code)
        self.code = code[:120]
        self.retryable = retryable
