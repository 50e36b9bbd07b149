"""A real Prometheus (Debian's package) with the demo's rules; the product never imports it."""
