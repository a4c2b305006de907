"""API routers, one per part of the registry."""
