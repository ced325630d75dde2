"""HTTP and command line: thin adapters over the domain in ``models``."""
