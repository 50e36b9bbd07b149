"""The demo's Backstage catalog backend; a stage set for the demo and the tests, never imported by the product."""
