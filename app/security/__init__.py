"""Request signatures, short-lived tokens and encryption of secrets at rest."""
