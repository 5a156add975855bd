"""One module per messaging provider API; each maps its answers and errors to domain terms."""
