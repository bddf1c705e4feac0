"""The API's error shape, written into the OpenAPI schema of every operation.

``school.api.exception_handler`` gives every error one shape; this hook tells the schema
so, so that clients (and Schemathesis in the suite) can rely on it: each operation's
4xx answers carry the ``Error`` component, and any 4xx not listed falls under ``4XX``.
"""

from __future__ import annotations

import re
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


# ---------------------------------------------------------------------------------------
# Examples: every schema of the API carries one, built from its fields, so that the
# documentation shows a whole request and a whole answer, and Schemathesis sends them.
# ---------------------------------------------------------------------------------------

# Believable values for the fields that recur across the API, by name.
NAMED_EXAMPLES: dict[str, Any] = {
    "first_name": "Léa",
    "last_name": "Durand",
    "name": "Léa Durand",
    "learner_name": "Léa Durand",
    "tutor_name": "Marc Lefèvre",
    "assessor_name": "Marc Lefèvre",
    "email": "lea.durand@example.fr",
    "sent_to": "lea.durand@example.fr",
    "phone": "03 25 00 00 00",
    "address": "12 rue des Forges",
    "postal_code": "52800",
    "city": "Nogent",
    "legal_name": "Forges de Nogent SAS",
    "company_name": "Forges de Nogent SAS",
    "siret": "73282932000074",
    "siren": "732829320",
    "sector": "Coutellerie",
    "title": "Tournage d'axes de pompe",
    "offer_title": "Stage en tournage CN",
    "code": "TOUR1",
    "reference": "CMD-2027-014",
    "number": "MT-2027-000123",
    "job_title": "Chef d'atelier",
    "material": "Acier C45",
    "unit": "mm",
    "reason": "Rendez-vous médical",
    "activities": "Usinage de séries courtes sur tour CN, contrôle au micromètre.",
    "message": "Je souhaite découvrir l'usinage de précision.",
    "school_years": "2026-2027",
    "birth_date": "2010-03-14",
    "end_date": "2027-02-05",
    "last_date": "2027-02-05",
    "end": "2027-01-11T12:00:00+01:00",
    "planned_end": "2027-01-11T12:00:00+01:00",
    "end_time": "12:00:00",
}
FORMAT_EXAMPLES = {
    "date": "2027-01-11",
    "date-time": "2027-01-11T08:00:00+01:00",
    "time": "08:00:00",
    "email": "lea.durand@example.fr",
    "uri": "https://metaltech.example.fr/api/v1/",
    "uuid": "3fa85f64-5717-4562-b3fc-2c963f66afa6",
    "decimal": "12.50",
}
TEXT_EXAMPLE = "Texte libre"


def add_examples(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """drf-spectacular postprocessing hook: an ``example`` on every component schema
    that has none (and so on every request and response body that uses one)."""
    schemas = result.get("components", {}).get("schemas", {})
    for name, schema in schemas.items():
        if "example" not in schema and schema.get("type") == "object":
            schema["example"] = _example(schema, schemas, seen=(name,))
    return result


def _example(schema: dict[str, Any], schemas: dict[str, Any], seen: tuple[str, ...]) -> Any:
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        if name in seen:  # a schema that contains itself: stop there
            return None
        return _example(schemas[name], schemas, (*seen, name))
    if "example" in schema:
        return schema["example"]
    for combined in ("allOf", "oneOf", "anyOf"):
        if schema.get(combined):
            return _example(schema[combined][0], schemas, seen)
    if "enum" in schema:
        return next((value for value in schema["enum"] if value not in ("", None)), None)
    kind = schema.get("type")
    if kind == "object":
        example = {}
        for field, spec in schema.get("properties", {}).items():
            if spec.get("format") == "binary":
                continue  # a file is sent as a part of its own, never as text
            value = _field_example(field, spec, schemas, seen)
            if value is not None or spec.get("nullable"):
                example[field] = value
        return example
    if kind == "array":
        item = _example(schema.get("items", {}), schemas, seen)
        return [] if item is None else [item] * max(schema.get("minItems", 1), 1)
    return _scalar(schema)


def _field_example(
    field: str, spec: dict[str, Any], schemas: dict[str, Any], seen: tuple[str, ...]
) -> Any:
    if spec.get("type") == "string" and "enum" not in spec and field in NAMED_EXAMPLES:
        return _fitted(NAMED_EXAMPLES[field], spec)
    return _example(spec, schemas, seen)


def _scalar(schema: dict[str, Any]) -> Any:
    kind = schema.get("type")
    if kind == "boolean":
        return True
    if kind in ("integer", "number"):
        low, high = schema.get("minimum", 1), schema.get("maximum")
        value = max(low, 1) if high is None else min(max(low, 1), high)
        return int(value) if kind == "integer" else float(value)
    if kind == "string":
        value = FORMAT_EXAMPLES.get(schema.get("format", ""), TEXT_EXAMPLE)
        return _fitted(value, schema)
    return None


def _fitted(value: str, schema: dict[str, Any]) -> str | None:
    """The value, cut to the schema's length; none if its pattern refuses it."""
    value = value[: schema.get("maxLength", len(value))]
    if len(value) < schema.get("minLength", 0):
        return None
    if (pattern := schema.get("pattern")) and not re.search(pattern, value):
        return None
    return value
