"""Scoring rows with a finished run, and the reports evaluate writes."""
