"""Every mapped table, and only tables: the ground floor every other package stands on."""
