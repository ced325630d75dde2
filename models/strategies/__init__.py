"""Strategies and their actions (README: Strategies): what the backbone team and partners do to
turn a curve, with owners, dates, the indicators aimed at, and the steps taken."""
