"""A fake Elasticsearch, for the demo and the tests; the product never imports it."""
