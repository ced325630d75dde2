"""The audit trail: every change leaves an event, read back by admins and backbone teams."""
