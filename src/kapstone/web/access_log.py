"""gunicorn's logs as one JSON object per line; request lines without query strings.

gunicorn's own format string cannot escape quotes inside values, and its ``%(r)s`` and ``%(U)s``
atoms carry the query string (patient searches put names there), so the line is built here from
the path alone and serialised with json.dumps. ``deploy/gunicorn.conf.py`` names this class.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import time
from typing import TYPE_CHECKING, Any

from kapstone.web.logging import JsonFormatter

if TYPE_CHECKING:
    # gunicorn ships no type information: what this module uses of its logger, as gunicorn has it.
    class Logger:
        error_log: logging.Logger
        access_log: logging.Logger

        @property
        def access_log_enabled(self) -> bool: ...

        def setup(self, cfg: Any) -> None: ...

        def error(self, msg: str, *args: Any, **kwargs: Any) -> None: ...

else:
    from gunicorn.glogging import Logger

# Questionnaire links (/q/<token>/) and calendar feeds (/calendar/<token>.ics) carry their secret in
# the path: a log reader must not be able to open them.
_SECRET_IN_PATH = re.compile(r"^/(q|calendar)/[^/]+?(?=/|\.ics$|$)")


def loggable_path(path: str) -> str:
    return _SECRET_IN_PATH.sub(lambda m: f"/{m.group(1)}/…", path)


def access_line(
    *, environ: dict[str, Any], status: str, request_id: str, micros: int, size: int
) -> str:
    path = loggable_path(environ.get("PATH_INFO", ""))
    return json.dumps(
        {
            # gunicorn runs outside Django's settings here, so no django.utils.timezone.
            "time": dt.datetime.fromtimestamp(time.time(), dt.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": "INFO",
            "logger": "gunicorn.access",
            "method": environ.get("REQUEST_METHOD", ""),
            "path": path,
            "status": int(status.split(None, 1)[0]) if status[:3].isdigit() else status,
            "bytes": size,
            "duration_ms": round(micros / 1000, 1),
            "request_id": request_id or "-",
            "remote": environ.get("HTTP_X_REAL_IP") or environ.get("REMOTE_ADDR", ""),
            "scheme": environ.get("HTTP_X_FORWARDED_PROTO", environ.get("wsgi.url_scheme", "")),
        }
    )


class JsonLogger(Logger):
    """gunicorn's logger with both logs as JSON lines: requests built here, its own messages through
    the same formatter as Django's (kapstone.web.logging.JsonFormatter)."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        for handler in self.error_log.handlers:
            handler.setFormatter(JsonFormatter())

    def access(
        self, resp: Any, req: Any, environ: dict[str, Any], request_time: dt.timedelta
    ) -> None:
        if not self.access_log_enabled:
            return
        request_id = ""
        for name, value in resp.headers or []:
            if name.lower() == "x-request-id":
                request_id = value
        micros = request_time.seconds * 1_000_000 + request_time.microseconds
        line = access_line(
            environ=environ,
            status=str(resp.status),
            request_id=request_id,
            micros=micros,
            size=getattr(resp, "sent", 0) or 0,
        )
        try:
            self.access_log.info(line)
        except Exception:
            self.error("Failed to write an access log line")
