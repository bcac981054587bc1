"""The pure billing core (issue 21): code tables, charge rules, the account ledger, prior
authorisations and the professional claim. No Django, no I/O; dates are passed in (§13).

- :mod:`.codes` the dated, versioned code tables and :func:`~.codes.code_on`
- :mod:`.policy` the rules' numbers as clinic policy (:class:`~.policy.BillingPolicy`)
- :mod:`.charges` charge lines proposed from a signed encounter
- :mod:`.account` the append-only patient account ledger and its balance identity
- :mod:`.prior_auth` esketamine prior authorisations and their warnings
- :mod:`.claim` the claim both the CMS-1500 and the 837P are built from
"""
