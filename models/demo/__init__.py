"""The demo initiatives: their specification and the builder that loads them."""
