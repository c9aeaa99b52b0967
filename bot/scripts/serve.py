"""`rasa run` with the NLU parse of a message text cached (an LRU per process).

    PYTHONPATH=bot .venv-rasa/bin/python bot/scripts/serve.py run -m bot/models/current.tar.gz ...

Takes exactly `rasa`'s command line. Residents ask the same questions in the same words
("白银医保交多少钱"), and the NLU pipeline's result depends on the text alone: none of the
components reads the tracker (bot/components/nlu.py, Rasa's own). So the parse is kept by
text; the dialogue (policies, the action, the tracker) runs for every turn as before, and an
answer still depends on the conversation. Measured per turn in bench/rasa_profile.py.
The cache belongs to one model: a process serves one model and a new model means a restart.
"""

from __future__ import annotations

import copy
import sys
from collections import OrderedDict
from typing import Any

from rasa.core.processor import MessageProcessor

CACHE_SIZE = 4096  # distinct texts; a parse is a few kB


def install(size: int = CACHE_SIZE) -> None:
    """Wrap `MessageProcessor._parse_message_with_graph` with an LRU keyed by the text."""
    original = MessageProcessor._parse_message_with_graph
    cache: OrderedDict[tuple[str, bool], dict[str, Any]] = OrderedDict()

    def parse(self: MessageProcessor, message: Any, tracker: Any,
              only_output_properties: bool = True) -> dict[str, Any]:
        if message.text is None or message.text.startswith("/"):  # "/intent{...}" payloads
            return original(self, message, tracker, only_output_properties)
        key = (message.text, only_output_properties)
        hit = cache.get(key)
        if hit is None:
            hit = original(self, message, tracker, only_output_properties)
            cache[key] = copy.deepcopy(hit)
            if len(cache) > size:
                cache.popitem(last=False)
        else:
            cache.move_to_end(key)
        return copy.deepcopy(hit)

    MessageProcessor._parse_message_with_graph = parse  # type: ignore[method-assign]


def main() -> None:
    install()
    from rasa.__main__ import main as rasa_main

    sys.argv[0] = "rasa"
    rasa_main()


if __name__ == "__main__":
    main()
