"""Questionnaires: sending them, answering them, and their scored, item-level records."""
