"""The API's error shape, written into the OpenAPI schema of every operation.

``school.api.exception_handler`` gives every error one shape; this hook tells the schema
so, so that clients (and Schemathesis in the suite) can rely on it: each operation's
4xx answers carry the ``Error`` component, and any 4xx not listed falls under ``4XX``.
"""

from __future__ import annotations

from typing import Any

ERROR_COMPONENT = {
    "type": "object",
    "description": "Toute erreur de l'API.",
    "properties": {
        "detail": {"type": "string", "description": "Message à montrer tel quel."},
        "errors": {
            "type": "object",
            "description": (
                "Données invalides : les messages de chaque champ "
                "(« non_field_errors » pour ceux de l'ensemble)."
            ),
            "additionalProperties": {},
        },
    },
    "required": ["detail"],
    "example": {
        "detail": "E-mail ou mot de passe incorrect.",
        "errors": {"non_field_errors": ["E-mail ou mot de passe incorrect."]},
    },
}
ERROR_CONTENT = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}


def add_error_responses(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """drf-spectacular postprocessing hook (``SPECTACULAR_SETTINGS``)."""
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_COMPONENT
    for path in result.get("paths", {}).values():
        for operation in path.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            responses = operation["responses"]
            for status, response in responses.items():
                if str(status).startswith("4") and "content" not in response:
                    response["content"] = ERROR_CONTENT
            responses.setdefault(
                "4XX", {"description": "Erreur (voir « detail »).", "content": ERROR_CONTENT}
            )
    return result
