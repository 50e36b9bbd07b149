"""The demo's Jira backend; a stage set for the demo and the tests, never imported by the product."""
