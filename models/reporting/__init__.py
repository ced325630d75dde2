"""Partners' reports: values are validated, saved as drafts, submitted, reviewed, approved."""
