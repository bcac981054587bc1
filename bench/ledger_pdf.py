"""The ledger's dispensing-log PDF for a year of a clinic's entries: the WeasyPrint table it used
to be against the paged ReportLab drawing (``kapstone.ledger.pdf``), in the same run.

    .venv/bin/python bench/ledger_pdf.py [--draws 1000] [--runs 3]

A year of a clinic: 4 draws a working day for 250 days (1 000 rows), each a realistic row of the
report (patient, MRN, session, product, lot, location, amounts, witness, nurse, status, entry).
Only the rendering is timed: the rows are the report's, already read (the query is timed by the
ledger's own tests, not here). Prints the median of ``--runs`` for each, the pages and the sizes,
with the machine and the date. Exit status 0 when the new PDF takes under 1 s.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import os
import platform
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kapstone.settings")

import logging

import django

django.setup()
logging.getLogger("weasyprint").setLevel(logging.WARNING)

from django.template import Context, Template  # noqa: E402
from django.utils import timezone  # noqa: E402
from pypdf import PdfReader  # noqa: E402

from kapstone.ledger.pdf import render_report_pdf  # noqa: E402
from kapstone.ledger.reports import Report  # noqa: E402

COLUMNS = (
    "Drawn",
    "Patient",
    "MRN",
    "Session",
    "Product",
    "Lot",
    "Location",
    "Drawn amount",
    "Given",
    "Wasted",
    "Returned",
    "Waste witness",
    "Drawn by",
    "Status",
    "Entry",
)
NAMES = ("Ada Lovelace", "Grace Hopper", "Katherine Johnson", "Alan Turing", "Edsger Dijkstra")


def year_of_draws(draws: int) -> Report:
    start = dt.datetime(2026, 1, 5, 8, 30)
    rows = []
    for n in range(draws):
        at = start + dt.timedelta(days=n // 4 * 7 // 5, minutes=90 * (n % 4))
        ketamine = n % 5
        rows.append(
            (
                f"{at:%Y-%m-%d %H:%M}",
                f"{NAMES[n % 5]} {n // 5}",
                f"MRN-{1000 + n % 400}",
                f"{at + dt.timedelta(minutes=10):%Y-%m-%d %H:%M}",
                "Ketamine HCl 50 mg/mL, 10 mL vial"
                if ketamine
                else "Spravato 28 mg nasal spray device",
                f"K{240 + n // 300}",
                "Riverside clinic · Main safe",
                "35 mg" if ketamine else "3 devices (84 mg)",
                "30 mg" if ketamine else "3 devices (84 mg)",
                "5 mg" if ketamine else "0 devices (0 mg)",
                "0 mg" if ketamine else "0 devices (0 mg)",
                "Prescriber Tester" if ketamine else "",
                "Nurse Tester",
                "closed",
                str(n + 1),
            )
        )
    return Report(
        "dispensing",
        "Dispensing log",
        COLUMNS,
        rows,
        "everything",
        totals=[("Total",) + ("",) * 13 + (f"{draws} draws",)],
    )


def weasyprint_pdf(report: Report) -> bytes:
    from weasyprint import HTML

    template = Template((Path(__file__).parent / "ledger_pdf_weasyprint.html").read_text())
    html = template.render(
        Context(
            {
                "report": report,
                "SITE_NAME": "Kapstone",
                "generated_at": timezone.now(),
                "user": {"display_name": "Prescriber Tester"},
            }
        )
    )
    return HTML(string=html).write_pdf()


def reportlab_pdf(report: Report) -> bytes:
    return render_report_pdf(
        report,
        site_name="Kapstone",
        generated_at=timezone.now(),
        generated_by="Prescriber Tester",
    )


def timed(render, report: Report, runs: int) -> tuple[float, bytes]:  # type: ignore[no-untyped-def]
    render(report)  # warm-up: imports, fonts
    times, body = [], b""
    for _ in range(runs):
        began = time.perf_counter()
        body = render(report)
        times.append(time.perf_counter() - began)
    return statistics.median(times), body


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--draws", type=int, default=1_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    report = year_of_draws(args.draws)
    print(f"{platform.node()} · {platform.processor() or platform.machine()} · ", end="")
    print(
        f"{os.cpu_count()} CPUs · load {os.getloadavg()[0]:.2f} · {timezone.localtime():%Y-%m-%d %H:%M}"
    )
    print(f"Dispensing log, {args.draws} draws, median of {args.runs} runs:")
    results = {}
    for name, render in (
        ("WeasyPrint table (before)", weasyprint_pdf),
        ("ReportLab, paged (now)", reportlab_pdf),
    ):
        seconds, body = timed(render, report, args.runs)
        pages = len(PdfReader(io.BytesIO(body)).pages)
        results[name] = seconds
        print(f"  {name:28} {seconds:7.3f} s  {pages:4} pages  {len(body) / 1024:8.0f} KiB")
    now = results["ReportLab, paged (now)"]
    print(f"  speed-up: {results['WeasyPrint table (before)'] / now:.1f}x")
    return 0 if now < 1.0 else 1


if __name__ == "__main__":
    sys.exit(main())
