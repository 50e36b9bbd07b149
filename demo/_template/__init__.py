"""The template server's fake status-page API, for the demo and the tests; the product never imports it."""
