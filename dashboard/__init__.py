"""The Plotly Dash front end: pages, components and pure figure functions.

Dash code never queries the database itself; it calls ``dashboard.data``, the one seam that
asks the domain layer (``models``) on behalf of the logged-in actor.
"""
