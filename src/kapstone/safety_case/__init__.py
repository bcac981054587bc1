"""The clinical safety case kept as code (issue 22).

The hazard log is data (``docs/safety/hazards.yaml``); this package loads and checks it
(:mod:`.log`, :mod:`.check`), records the tests' outcomes of a ``make test`` run
(:mod:`.pytest_plugin`, :mod:`.results`), writes the safety case as Markdown and PDF
(:mod:`.document`, :mod:`.pdf`) and lists the clinical values that changed between two releases
(:mod:`.clinical_values`, :mod:`.changes`). Not to be confused with :mod:`kapstone.safety`, the app
that raises suicide-risk alerts.

Run it as ``python -m kapstone.safety_case`` (or ``kapstone safety_case``); see :mod:`.cli`.
"""
