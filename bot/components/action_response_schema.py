"""Validate action-server responses with one compiled validator instead of one per call.

Rasa 3.6.21 checks every custom action's response with ``jsonschema.validate(result, schema)``
(``RemoteAction._validate_action_result``). That call first validates the large events schema
against the JSON-Schema metaschema and builds a new validator, on every action call: profiled
here, 26 % of the Rasa process's CPU during REST turns. The schema is a constant, so the
validator is built once; the responses are checked against the same schema as before, and an
invalid response still raises the same ``ValidationError`` with Rasa's message.

Imported by ``components/nlu.py``, which Rasa imports whenever it loads the model (the model's
pipeline names its components). Re-check on a Rasa upgrade.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from jsonschema import ValidationError
from jsonschema.validators import validator_for
from rasa.core.actions.action import RemoteAction
from rasa.shared.constants import DOCS_BASE_URL


@cache
def _validator() -> Any:
    schema = RemoteAction.action_response_format_spec()
    cls = validator_for(schema)
    cls.check_schema(schema)  # once, as jsonschema.validate did on every call
    return cls(schema)


def validate_action_result(_action: RemoteAction, result: dict[str, Any]) -> bool:
    try:
        _validator().validate(result)
        return True
    except ValidationError as e:
        e.message += (
            ". Failed to validate Action server response from API, make sure your response "
            f"from the Action endpoint is valid. For more information about the format visit "
            f"{DOCS_BASE_URL}/custom-actions")
        raise


RemoteAction._validate_action_result = validate_action_result
