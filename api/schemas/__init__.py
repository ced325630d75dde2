"""Request and response bodies of the API, one module per area (like models/ and api/routers/)."""
