"""Intake (issue 4 item 1) and the eligibility screening and sign-off built on it (items 2-3)."""
