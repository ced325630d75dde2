"""Delivering the outbox's messages: rendering mail from templates, the SMTP and local-mailbox
channels, the delivery worker and the scheduled reminders (README, "Notifications")."""
