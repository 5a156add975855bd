"""Use cases: they orchestrate the domain, the store and the providers, and know nothing of HTTP."""
