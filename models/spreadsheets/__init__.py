"""Spreadsheets in and out: import templates, imports (all-or-nothing per file), exports."""
