"""Rasa graph components: input normaliser (first in the pipeline) and quantity extractor."""

from __future__ import annotations

from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from components import action_response_schema  # noqa: F401  (patches Rasa on import)
from components.overlaps import resolve_overlaps
from components.quantities import extract
from components.replies import is_bare_reply
from components.textnorm import normalise


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER], is_trainable=False)
class ChineseNormalizer(GraphComponent):
    """Rewrites the message text before tokenisation (see ``components.textnorm``)."""

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> ChineseNormalizer:
        return cls()

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        for example in training_data.training_examples:
            text = example.get(TEXT)
            if not text:
                continue
            new = normalise(text)
            # Entity offsets refer to the original text: only rewrite when they stay valid.
            if new != text and (len(new) == len(text) or not example.get(ENTITIES)):
                example.set(TEXT, new)
        return training_data

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            text = message.get(TEXT)
            if isinstance(text, str) and not text.startswith("/"):
                message.set(TEXT, normalise(text))
        return messages


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR], is_trainable=False)
class QuantityExtractor(GraphComponent, EntityExtractorMixin):
    """Adds year / date / duration / amount entities found by ``components.quantities``."""

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> QuantityExtractor:
        return cls()

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            text = message.get(TEXT)
            if not isinstance(text, str) or not text or text.startswith("/"):
                continue
            found = [
                {**e, "confidence_entity": 1.0} for e in extract(text)
            ]
            for e in found:
                e.pop("text", None)
            entities = self.add_extractor_name(found)
            message.set(ENTITIES, message.get(ENTITIES, []) + entities, add_to_output=True)
        return messages


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR], is_trainable=False)
class OverlapResolver(GraphComponent):
    """Keeps one entity per overlapping group of the same type: the longest span.

    DIET and the lookup-table extractor often find the same place or identity, sometimes
    with different extents (低保 inside 农村一类低保); two values would make the bot ask
    about two identities. The longest span is the most specific name.
    """

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> OverlapResolver:
        return cls()

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            entities = message.get(ENTITIES) or []
            if len(entities) > 1:
                message.set(ENTITIES, resolve_overlaps(entities), add_to_output=True)
        return messages



@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class BareReplyClassifier(GraphComponent):
    """Classifies a message made only of context entities as ``inform`` (confidence 1).

    Short replies such as "白银" or "2023年" carry little for DIET to go on and would
    otherwise fall below the fallback threshold; see ``components.replies``.
    """

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> BareReplyClassifier:
        return cls()

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            text = message.get(TEXT)
            if isinstance(text, str) and is_bare_reply(text, message.get(ENTITIES) or []):
                message.set(INTENT, {"name": "inform", "confidence": 1.0}, add_to_output=True)
                ranking = [r for r in message.get(INTENT_RANKING_KEY) or []
                           if r.get("name") != "inform"]
                message.set(INTENT_RANKING_KEY,
                            [{"name": "inform", "confidence": 1.0}, *ranking],
                            add_to_output=True)
        return messages
