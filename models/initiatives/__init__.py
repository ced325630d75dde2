"""Setting up an initiative: organisations, members, outcomes, dimensions, indicators, periods."""
