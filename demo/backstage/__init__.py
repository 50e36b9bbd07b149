"""A fake Backstage catalog, for the demo and the tests; the product never imports it."""
