"""The demo's Elasticsearch backend; a stage set for the demo and the tests, never imported by the product."""
