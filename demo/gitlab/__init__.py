"""The demo's GitLab backend; a stage set for the demo and the tests, never imported by the product."""
