"""The demo's Prometheus (a real one, started from Debian's package) backend; a stage set for the demo and the tests, never imported by the product."""
