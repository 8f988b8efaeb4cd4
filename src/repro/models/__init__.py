"""Neural networks of the bundle, one module per family."""
