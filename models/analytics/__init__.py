"""Figures: rollups of approved values, coverage, suppression and disclosure, the read views."""
