"""The independent check of an 837P: pyx12 validates it against its 005010X222A1 map and answers
with a 999 acknowledgement (accepted: IK5*A and AK9*A)."""

from __future__ import annotations

import io
import logging


def pyx12_verdict(text: str) -> tuple[bool, str]:
    """(accepted, the 999 acknowledgement pyx12 wrote) for an X12 interchange."""
    import pyx12.params
    import pyx12.x12n_document

    logging.getLogger("pyx12").setLevel(logging.CRITICAL)
    ack = io.StringIO()
    ok = pyx12.x12n_document.x12n_document(
        param=pyx12.params.params(), src_file=io.StringIO(text), fd_997=ack, fd_html=None
    )
    acknowledgement = ack.getvalue()
    accepted = bool(ok) and "IK5*A" in acknowledgement and "AK9*A" in acknowledgement
    return accepted, acknowledgement
