"""Train the Rasa model only when the bot's inputs changed (cache keyed by content hash).

The hash covers config, domain, training data, the jieba dictionary and the custom
components. The model is ``bot/models/<hash>.tar.gz``; ``bot/models/current.tar.gz`` links
to it. Usage: ``python bot/scripts/train.py [--rasa .venv-rasa/bin/rasa] [--hash]``.
"""

from __future__ import annotations

import argparse
import fcntl
import hashlib
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BOT = ROOT / "bot"
MODELS = BOT / "models"
INPUTS = ["config.yml", "domain.yml", "data", "dictionary", "components"]
KEEP = 3  # models kept in bot/models
LOG = ROOT / "var" / "train.log"  # rasa train's own output (progress bars), kept out of the terminal
# Loaded by `rasa run` from endpoints files, never by training: changing them needs no new model.
RUNTIME_ONLY = {"components/tracker_store.py", "components/lock_store.py"}


def content_hash() -> str:
    digest = hashlib.sha256()
    files: list[Path] = []
    for name in INPUTS:
        path = BOT / name
        files.extend(sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir()
                     else [path])
    for path in files:
        if "__pycache__" in path.parts or path.relative_to(BOT).as_posix() in RUNTIME_ONLY:
            continue
        digest.update(str(path.relative_to(BOT)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def train(rasa: str) -> Path:
    """Train unless cached; a file lock makes concurrent callers (make, test fixtures) wait."""
    MODELS.mkdir(parents=True, exist_ok=True)
    with (MODELS / ".train.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return _train_locked(rasa)


def _train_locked(rasa: str) -> Path:
    name = content_hash()
    model = MODELS / f"{name}.tar.gz"
    if not model.exists():
        env = {**os.environ, "PYTHONPATH": str(BOT)}
        started = time.monotonic()
        LOG.parent.mkdir(exist_ok=True)
        print(f"train: the bot's inputs changed, training the model (about 3 min; "
              f"progress in {LOG.relative_to(ROOT)}) ...", file=sys.stderr, flush=True)
        with LOG.open("w") as log:
            done = subprocess.run(
                [rasa, "train", "--config", "bot/config.yml", "--domain", "bot/domain.yml",
                 "--data", "bot/data", "--out", str(MODELS), "--fixed-model-name", name],
                cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        if done.returncode != 0:
            tail = LOG.read_text(errors="replace").splitlines()[-20:]
            sys.exit("train: rasa train failed:\n" + "\n".join(tail))
        print(f"train: trained {model.name} in {time.monotonic() - started:.0f} s",
              file=sys.stderr)
    current = MODELS / "current.tar.gz"
    if current.is_symlink() or current.exists():
        current.unlink()
    current.symlink_to(model.name)
    old = sorted((p for p in MODELS.glob("*.tar.gz") if p.name != "current.tar.gz"
                  and not p.is_symlink() and p != model), key=lambda p: p.stat().st_mtime)
    for stale in old[:-(KEEP - 1)] if KEEP > 1 else old:
        stale.unlink()
    return model


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rasa", default=str(ROOT / ".venv-rasa" / "bin" / "rasa"))
    parser.add_argument("--hash", action="store_true", help="print the content hash and exit")
    args = parser.parse_args()
    if args.hash:
        print(content_hash())
        return 0
    model = train(args.rasa)
    print(f"train: model {model.relative_to(ROOT)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
