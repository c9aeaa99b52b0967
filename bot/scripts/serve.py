"""`rasa run` with the NLU parse of a text cached, the action call sent only this turn, and the
model warmed up before the first request.

    PYTHONPATH=bot .venv-rasa/bin/python bot/scripts/serve.py run -m bot/models/current.tar.gz ...

Takes exactly `rasa`'s command line. Residents ask the same questions in the same words
("白银医保交多少钱"), and the NLU pipeline's result depends on the text alone: none of the
components reads the tracker (bot/components/nlu.py, Rasa's own). So the parse is kept by
text; the dialogue (policies, the action, the tracker) runs for every turn as before, and an
answer still depends on the conversation. Measured per turn in bench/rasa_profile.py.
The cache is keyed by the model too (a model replaced through the API starts afresh), and
holds each parse pickled: a copy for every caller, and bytes, which Python's garbage collector
does not walk (see `warm_up_on_start`).

Rasa also sends the action server every event of the conversation with every action call,
and encoding it (and decoding it on the other side) grew with the conversation to an eighth
of Rasa's CPU at 20 turns. Our actions keep what they remember in slots (`situation`) and
read only the latest message, the slots and the sender (actions/bot_actions.py; no action
reads `tracker.events`), so the call carries the events from the latest user message on; the
rest of the tracker state (slots, latest message, paused, active loop) is sent whole.
"""

from __future__ import annotations

import gc
import os
import pickle
import sys
from collections import OrderedDict
from typing import Any

from rasa.core.actions.action import RemoteAction
from rasa.core.processor import MessageProcessor

CACHE_SIZE = 4096  # distinct texts; a parse is a few kB


def cache_parses(size: int = CACHE_SIZE) -> None:
    """Wrap `MessageProcessor._parse_message_with_graph` with an LRU keyed by the text."""
    original = MessageProcessor._parse_message_with_graph
    cache: OrderedDict[tuple[str, str, bool], bytes] = OrderedDict()

    def parse(self: MessageProcessor, message: Any, tracker: Any,
              only_output_properties: bool = True) -> dict[str, Any]:
        if message.text is None or message.text.startswith("/"):  # "/intent{...}" payloads
            return original(self, message, tracker, only_output_properties)
        key = (self.model_metadata.model_id, message.text, only_output_properties)
        hit = cache.get(key)
        if hit is None:
            parsed = original(self, message, tracker, only_output_properties)
            cache[key] = pickle.dumps(parsed, pickle.HIGHEST_PROTOCOL)
            if len(cache) > size:
                cache.popitem(last=False)
            return parsed
        cache.move_to_end(key)
        return pickle.loads(hit)

    MessageProcessor._parse_message_with_graph = parse  # type: ignore[method-assign]


def send_only_this_turn() -> None:
    """Trim the events in `RemoteAction`'s request to those since the latest user message."""
    original = RemoteAction._action_call_format

    def call_format(self: RemoteAction, tracker: Any, domain: Any) -> dict[str, Any]:
        payload = original(self, tracker, domain)
        events = payload["tracker"]["events"]
        last_user = max((i for i, e in enumerate(events) if e.get("event") == "user"),
                        default=0)
        payload["tracker"]["events"] = events[last_user:]
        return payload

    RemoteAction._action_call_format = call_format  # type: ignore[method-assign]


# Parsed once the model is loaded, before the server takes requests: TensorFlow traces DIET's
# graph on the first parse (seconds), which otherwise the first residents wait for.
WARM_UP = ("你好", "会宁县低保户交多少钱", "白银市2023年什么时候开始缴费", "新生儿怎么参保")


def warm_up_on_start() -> None:
    """Parse a few questions right after `rasa run` loads the model (then the port opens),
    then move every object made so far out of the garbage collector's reach.

    Python's full collection walks every live object while the event loop waits. After the
    model is loaded that is ~520,000 objects (TensorFlow, Rasa, the model), none of them
    garbage; under load the full collections of a replica took 0.3-1.5 s each, the slowest
    turns of `make cluster` ("gc full" in bench/rasa_profile.py). `gc.freeze()`
    keeps them out of every later collection; objects freed later are still freed by their
    reference counts.
    """
    import rasa.core.run as run

    original = run.load_agent_on_start

    async def load_and_warm(*args: Any, **kwargs: Any) -> Any:
        agent = await original(*args, **kwargs)
        for text in WARM_UP:
            await agent.parse_message(text)
        gc.collect()
        gc.freeze()
        return agent

    run.load_agent_on_start = load_and_warm


def install() -> None:
    cache_parses()
    send_only_this_turn()
    warm_up_on_start()


def main() -> None:
    """`rasa` with the patches; Rasa's API token comes from RASA_TOKEN, not the command line
    (which every local user can read in `ps`)."""
    install()
    token = os.environ.get("RASA_TOKEN", "")
    if token and "--auth-token" not in sys.argv:
        sys.argv += ["--auth-token", token]
    from rasa.__main__ import main as rasa_main

    sys.argv[0] = "rasa"
    rasa_main()


if __name__ == "__main__":
    main()
