"""The demo's status-page API of the template server backend; a stage set for the demo and the tests, never imported by the product."""
