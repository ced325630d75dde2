"""What every rule needs: database sessions, settings, errors, paging, field checks, the acting user."""
