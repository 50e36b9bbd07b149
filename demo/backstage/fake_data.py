"""The seeded Acme Shop catalog, as the catalog-info.yaml files its repositories would hold.

Written as Backstage descriptor YAML, not as finished entities: the fake
processes these files exactly as it processes catalog-info.yaml files on disk
(defaults, Location targets, relations), so both paths share one code path.
`ROOT_LOCATION` is the one registered location; its Location entity lists the
other files, as a real organisation's `all.yaml` does.
"""

from __future__ import annotations

__all__ = ["FILES", "ROOT_LOCATION"]

_CATALOG = "https://gitlab.example.com/platform/backstage-catalog/-/blob/main"
ROOT_LOCATION = f"{_CATALOG}/all.yaml"

_ALL = """\
apiVersion: backstage.io/v1alpha1
kind: Location
metadata:
  name: acme-catalog
  description: Every catalog file of Acme Shop.
spec:
  type: url
  targets:
    - ./org.yaml
    - ./systems.yaml
    - https://gitlab.example.com/infra/api/-/blob/main/catalog-info.yaml
    - https://gitlab.example.com/infra/web/-/blob/main/catalog-info.yaml
    - https://gitlab.example.com/platform/auth/-/blob/main/catalog-info.yaml
    - https://gitlab.example.com/data/etl/-/blob/main/catalog-info.yaml
"""

_TEAMS = [
    # name, display name, members
    ("team-payments", "Payments", ["alice", "bob"]),
    ("team-web", "Web", ["carol", "dave"]),
    ("team-platform", "Platform", ["erin", "frank"]),
    ("team-data", "Data", ["grace", "heidi"]),
]
_PEOPLE = {
    "alice": "Alice Moreau",
    "bob": "Bob Okafor",
    "carol": "Carol Lindqvist",
    "dave": "Dave Nakamura",
    "erin": "Erin Castillo",
    "frank": "Frank Osei",
    "grace": "Grace Kim",
    "heidi": "Heidi Novak",
}


def _org() -> str:
    docs = [
        """\
apiVersion: backstage.io/v1alpha1
kind: Group
metadata:
  name: acme
  title: Acme Shop
  description: The whole company.
spec:
  type: organization
  profile:
    displayName: Acme Shop
    email: engineering@acme.example
  children: [team-payments, team-web, team-platform, team-data]
"""
    ]
    for team, display, members in _TEAMS:
        docs.append(
            f"""\
apiVersion: backstage.io/v1alpha1
kind: Group
metadata:
  name: {team}
  title: {display}
  description: The {display} team.
spec:
  type: team
  profile:
    displayName: {display}
    email: {team}@acme.example
  parent: acme
  children: []
  members: [{", ".join(members)}]
"""
        )
    for team, _, members in _TEAMS:
        for user in members:
            docs.append(
                f"""\
apiVersion: backstage.io/v1alpha1
kind: User
metadata:
  name: {user}
spec:
  profile:
    displayName: {_PEOPLE[user]}
    email: {user}@acme.example
  memberOf: [{team}]
"""
            )
    return "---\n".join(docs)


_SYSTEMS = """\
apiVersion: backstage.io/v1alpha1
kind: System
metadata:
  name: shop
  title: Acme Shop
  description: "The online shop: orders, the web storefront, login and data exports."
  tags: [ecommerce]
spec:
  owner: team-platform
"""

_ORDERS_OPENAPI = """\
openapi: 3.0.3
info:
  title: Orders API
  version: 2.4.0
  description: Create, read and list customer orders. Totals are VAT-inclusive, rounded to cents.
servers:
  - url: https://api.acme.example/v2
security:
  - bearerAuth: []
paths:
  /orders:
    get:
      summary: List orders, newest first
      parameters:
        - {name: status, in: query, schema: {type: string, enum: [open, paid, shipped, cancelled]}}
        - {name: page, in: query, schema: {type: integer, minimum: 1, default: 1}}
      responses:
        "200":
          description: A page of orders
          content:
            application/json:
              schema: {type: array, items: {$ref: "#/components/schemas/Order"}}
    post:
      summary: Create an order
      parameters:
        - {name: Idempotency-Key, in: header, required: false, schema: {type: string}}
      requestBody:
        required: true
        content:
          application/json:
            schema: {$ref: "#/components/schemas/NewOrder"}
      responses:
        "201": {description: The created order}
        "422": {description: Invalid order lines}
  /orders/{orderId}:
    get:
      summary: Get one order
      parameters:
        - {name: orderId, in: path, required: true, schema: {type: string}}
      responses:
        "200": {description: The order}
        "404": {description: No such order}
components:
  securitySchemes:
    bearerAuth: {type: http, scheme: bearer, bearerFormat: JWT}
  schemas:
    NewOrder:
      type: object
      required: [lines]
      properties:
        lines:
          type: array
          items:
            type: object
            properties: {sku: {type: string}, qty: {type: integer}, price: {type: number}}
    Order:
      type: object
      properties:
        id: {type: string}
        status: {type: string}
        total: {type: string, description: "Decimal string, VAT included, e.g. '24.00'"}
        created_at: {type: string, format: date-time}
"""

_OIDC_OPENAPI = """\
openapi: 3.0.3
info:
  title: Acme login (OpenID Connect)
  version: 1.9.0
  description: OpenID Connect provider. Access tokens are JWTs valid 900 s.
servers:
  - url: https://auth.acme.example
paths:
  /.well-known/openid-configuration:
    get: {summary: OIDC discovery document, responses: {"200": {description: Provider metadata}}}
  /.well-known/jwks.json:
    get: {summary: Public signing keys, responses: {"200": {description: JSON Web Key Set}}}
  /oauth2/authorize:
    get: {summary: Authorization endpoint (code flow with PKCE), responses: {"302": {description: Redirect}}}
  /oauth2/token:
    post:
      summary: Token endpoint
      responses: {"200": {description: Tokens}, "400": {description: invalid_grant}}
  /userinfo:
    get: {summary: Claims of the token's user, responses: {"200": {description: Claims}}}
"""


def _indent(text: str, spaces: int) -> str:
    return "".join(" " * spaces + line if line.strip() else line for line in text.splitlines(True))


def _repo_annotations(slug: str, sentry: str, jira: str) -> str:
    return f"""\
  annotations:
    gitlab.com/project-slug: {slug}
    sentry.io/project-slug: {sentry}
    jira/project-key: {jira}
    backstage.io/techdocs-ref: dir:.
"""


_API_REPO = f"""\
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: orders-api
  title: Orders API
  description: REST API for orders, carts and VAT-inclusive order totals.
  tags: [python, fastapi, rest]
{_repo_annotations("infra/api", "orders-api", "API")}\
  links:
    - url: https://api.acme.example/v2/docs
      title: API docs
    - url: https://wiki.acme.example/runbooks/orders-api
      title: Runbook
spec:
  type: service
  lifecycle: production
  owner: team-payments
  system: shop
  providesApis: [orders-api]
  consumesApis: [auth-service]
  dependsOn: [resource:orders-db, resource:orders-events]
---
apiVersion: backstage.io/v1alpha1
kind: API
metadata:
  name: orders-api
  title: Orders REST API
  description: Orders API v2 (OpenAPI 3).
  tags: [rest]
spec:
  type: openapi
  lifecycle: production
  owner: team-payments
  system: shop
  definition: |
{_indent(_ORDERS_OPENAPI, 4)}\
---
apiVersion: backstage.io/v1alpha1
kind: Resource
metadata:
  name: orders-db
  title: Orders database (PostgreSQL)
  description: PostgreSQL 16 cluster holding orders and order lines.
  tags: [postgresql]
spec:
  type: database
  owner: team-payments
  system: shop
---
apiVersion: backstage.io/v1alpha1
kind: Resource
metadata:
  name: orders-events
  title: Kafka topic orders.events
  description: "Kafka topic orders.events: one event per order state change."
  tags: [kafka]
spec:
  type: kafka-topic
  owner: team-payments
  system: shop
"""

_WEB_REPO = f"""\
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: web-frontend
  title: Web storefront
  description: The customer-facing web shop (React).
  tags: [typescript, react]
{_repo_annotations("infra/web", "web-frontend", "WEB")}\
spec:
  type: service
  lifecycle: production
  owner: team-web
  system: shop
  consumesApis: [orders-api, auth-service]
  dependsOn: [component:acme-ui-kit]
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: acme-ui-kit
  title: Acme UI kit
  description: Shared React components and design tokens.
  tags: [typescript, react]
  annotations:
    gitlab.com/project-slug: infra/web
spec:
  type: library
  lifecycle: production
  owner: team-web
  system: shop
"""

_AUTH_REPO = f"""\
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: auth-service
  title: Auth service
  description: OIDC provider and session service behind the shop's login.
  tags: [python, security, oidc]
{_repo_annotations("platform/auth", "auth-service", "AUTH")}\
spec:
  type: service
  lifecycle: production
  owner: team-platform
  system: shop
  providesApis: [auth-service]
  dependsOn: [resource:sessions-cache]
---
apiVersion: backstage.io/v1alpha1
kind: API
metadata:
  name: auth-service
  title: Auth service OIDC
  description: OpenID Connect endpoints (discovery, JWKS, authorize, token, userinfo).
  tags: [oidc]
spec:
  type: openapi
  lifecycle: production
  owner: team-platform
  system: shop
  definition: |
{_indent(_OIDC_OPENAPI, 4)}\
---
apiVersion: backstage.io/v1alpha1
kind: Resource
metadata:
  name: sessions-cache
  title: Sessions cache (Redis)
  description: Redis 7 holding login sessions.
  tags: [redis]
spec:
  type: cache
  owner: team-platform
  system: shop
"""

_ETL_REPO = f"""\
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: etl-exporter
  title: ETL exporter
  description: Nightly export of orders from the orders database and topic to the data lake.
  tags: [python, pandas]
{_repo_annotations("data/etl", "etl-exporter", "DATA")}\
spec:
  type: service
  lifecycle: production
  owner: team-data
  system: shop
  dependsOn: [resource:orders-db, resource:orders-events, resource:exports-bucket]
---
apiVersion: backstage.io/v1alpha1
kind: Resource
metadata:
  name: exports-bucket
  title: Exports bucket (S3)
  description: S3 bucket receiving the nightly CSV exports.
  tags: [s3]
spec:
  type: s3-bucket
  owner: team-data
  system: shop
"""

# Location URL -> the text the fake "reads" there, as a real catalog reads it from GitLab.
FILES: dict[str, str] = {
    ROOT_LOCATION: _ALL,
    f"{_CATALOG}/org.yaml": _org(),
    f"{_CATALOG}/systems.yaml": _SYSTEMS,
    "https://gitlab.example.com/infra/api/-/blob/main/catalog-info.yaml": _API_REPO,
    "https://gitlab.example.com/infra/web/-/blob/main/catalog-info.yaml": _WEB_REPO,
    "https://gitlab.example.com/platform/auth/-/blob/main/catalog-info.yaml": _AUTH_REPO,
    "https://gitlab.example.com/data/etl/-/blob/main/catalog-info.yaml": _ETL_REPO,
}
