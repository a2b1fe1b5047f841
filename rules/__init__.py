"""Data only: lint rules, integration facts and the action catalogue, shipped as `policygen._rules`."""
