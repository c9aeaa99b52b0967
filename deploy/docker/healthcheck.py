"""Container health check: GET a URL inside the container, exit 0 on HTTP 200, else 1.

Used by the compose healthchecks of all three images and by the Kubernetes exec probes of
Rasa. Python rather than curl because python:3.11-slim has no curl. Rasa's ``/status`` sits
behind its API token: ``--token-env RASA_TOKEN`` appends ``?token=`` from the container's
environment, so the token never appears in a compose file, a manifest or ``ps`` output.

    python /usr/local/bin/healthcheck.py http://127.0.0.1:5005/status --token-env RASA_TOKEN
"""

from __future__ import annotations

import argparse
import os
import sys
import urllib.error
import urllib.parse
import urllib.request


def with_token(url: str, token: str) -> str:
    """`url` with `token=<token>` added to its query string."""
    parts = urllib.parse.urlsplit(url)
    query = urllib.parse.parse_qsl(parts.query, keep_blank_values=True) + [("token", token)]
    return urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(query)))


def check(url: str, timeout_s: float) -> tuple[bool, str]:
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as resp:
            return resp.status == 200, f"HTTP {resp.status}"
    except urllib.error.HTTPError as exc:
        return False, f"HTTP {exc.code}"
    except (OSError, ValueError) as exc:  # refused, timed out, malformed URL
        return False, type(exc).__name__


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url")
    parser.add_argument("--token-env", help="environment variable holding Rasa's API token")
    parser.add_argument("--timeout", type=float, default=3.0, help="seconds (default 3)")
    args = parser.parse_args(argv)
    url = args.url
    if args.token_env:
        token = os.environ.get(args.token_env, "")
        if not token:
            print(f"unhealthy: {args.token_env} is not set", file=sys.stderr)
            return 1
        url = with_token(url, token)
    ok, detail = check(url, args.timeout)
    if not ok:
        print(f"unhealthy: {detail}", file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
