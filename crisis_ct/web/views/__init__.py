"""Page views of the web blueprint, one module per group of pages."""
