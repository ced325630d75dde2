"""Who may do what: permissions from grants, login and tokens, API keys, users and passwords."""
