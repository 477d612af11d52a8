"""Classify the differences between two OpenAPI documents as breaking or not.

Breaking, for clients of /api/v1 (what they send must still be accepted, what they get must
still be what they were promised):

- operations: an operation removed; its operationId changed; a stricter security requirement
  (a public operation now needing credentials, another scheme, an added scope); a security
  scheme's type, token URL or scopes changed;
- statuses: a success status (2xx or 3xx) removed or replaced (200 to 201); a 2xx added where
  clients knew others;
- parameters (the path's and the operation's; header names in any case): one removed (what
  clients send stops acting), moved (query to header), newly required, narrowed, or given
  another default;
- request bodies: one newly required or removed; a content type dropped; a field removed or
  newly required; unknown fields refused; anything narrowed;
- responses: a content type or header removed; a field removed or no longer required (clients
  rely on it being there); anything widened;
- narrowing, for input (parameters, request bodies, at any depth, array items included):
  a type no longer accepted (null among them); a lower maximum or higher minimum (lengths and
  item counts too), added where there was none; an enum value removed, or an enum where any
  value was taken; a `format`, `pattern` or `multipleOf` added or changed; items made unique;
  another default (clients that leave the value out get something else);
- widening, for output (responses, at any depth, array items included): a type that may now
  be returned (null among them); a bound raised or dropped; an enum value added (generated
  clients reject values their enum does not know) or the enum dropped; a `format`, `pattern` or
  `multipleOf` changed or dropped; items that may now repeat.

Not breaking: new operations, optional parameters, optional request fields, response fields,
error statuses and redirects; an error status no longer documented; looser input, stricter
output (an enum value a response no longer uses, a format a response now declares).

`$ref`s are followed in their own document; `allOf` parts are merged; `anyOf`/`oneOf`
alternatives (pydantic's `anyOf: [X, null]` among them) are matched by type; a schema that
contains itself is compared once.

Not looked at: `discriminator`, `readOnly`/`writeOnly`, `prefixItems`, parameter `style` and
`explode`, `servers`; a union of two object schemas is compared through its first one; a renamed
path parameter shows as a removed operation (its URL template changed).

    python -m tools.openapi_compat OLD.json NEW.json     # compare two files
    python -m tools.openapi_compat --history openapi.json  # every committed change of a file

Exit status 1 when a breaking change is found.
"""

from tools.openapi_compat.changes import Change
from tools.openapi_compat.operations import compare

__all__ = ["Change", "compare"]
