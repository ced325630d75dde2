"""Webhooks an initiative's backbone team registers, and what each delivery did (README,
"Webhooks"). Messages are written by models/outbox/webhooks.py and posted by
models/notifications/webhooks.py."""
