"""The demo's Sentry backend; a stage set for the demo and the tests, never imported by the product."""
