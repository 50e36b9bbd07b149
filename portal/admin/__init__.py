"""The operator page at ``/admin``: server states and rates, recent executions, search, sandbox, consents.

Modules: ``session`` (the OAuth login at the portal itself and the session
cookie), ``views`` (what the page shows), ``routes`` (endpoints, CSRF checks)
and ``templates/`` (Jinja2, autoescaped, no JavaScript).
"""

from portal.admin.routes import admin_routes

__all__ = ["admin_routes"]
