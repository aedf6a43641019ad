"""The Rasa model, keyed by a hash of everything that shapes it.

`python -m devstack.model train` trains only when no model for the current hash exists;
`python -m devstack.model path` prints the model file for the current inputs;
`python -m devstack.model encoder-env` prints the variables naming the sentence encoder's files.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from devstack.paths import BOT_DIR, BOT_MODELS, BOT_PYTHON, MODEL_CACHE, REPO_ROOT

# What changes the trained model: the bot's configuration, training data and the code of
# its custom pipeline components, and the exact Rasa and TensorFlow builds that train it.
# Test stories, endpoints, credentials and the bot environment's other packages (test
# tools, linters) do not.
MODEL_INPUTS = ("bot/config.yml", "bot/domain.yml", "bot/data", "bot/components")
BOT_LOCK = "requirements/bot.lock"
# onnxruntime and tokenizers compute the sentence encoder's features at training time.
TRAINING_PACKAGES = ("rasa==", "rasa-sdk==", "tensorflow==", "onnxruntime==", "tokenizers==")
# The pipeline's sentence encoder (bot/components/sentence_encoder.py) is the FAQ search's
# ONNX export; training copies it into the model. Set both to train with other files.
ENCODER_ENV = ("BOT_ENCODER_ONNX", "BOT_ENCODER_TOKENIZER")


def encoder_files() -> tuple[Path, Path]:
    """The ONNX file and tokenizer the bot trains with: the environment's, else the FAQ export's."""
    onnx_file, tokenizer_file = (os.environ.get(name) for name in ENCODER_ENV)
    if onnx_file and tokenizer_file:
        return Path(onnx_file), Path(tokenizer_file)
    # Only here: the CRM environment's exporter (torch) is not needed for the other commands.
    from faq.search.onnx_model import ensure_exported, model_path

    return ensure_exported(), model_path() / "tokenizer.json"


def encoder_identity(onnx_file: Path) -> str:
    """The export's folder name: the exporter names it by a hash of the model files and exporter."""
    return onnx_file.parent.name


def _is_source(path: Path) -> bool:
    # Python's bytecode caches appear and vanish with runs: they must not change the hash.
    return path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"


def _input_files(root: Path) -> list[Path]:
    files: list[Path] = []
    for name in MODEL_INPUTS:
        path = root / name
        files.extend(sorted(p for p in path.rglob("*") if _is_source(p)) if path.is_dir() else [path])
    return files


def model_hash(root: Path = REPO_ROOT, encoder: str | None = None) -> str:
    """A short digest of the model's inputs (`encoder`: its identity): same inputs, same model file."""
    digest = hashlib.sha256()
    digest.update(f"encoder {encoder or encoder_identity(encoder_files()[0])}\0".encode())
    for path in _input_files(root):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    for line in sorted((root / BOT_LOCK).read_text().splitlines()):
        if line.lower().startswith(TRAINING_PACKAGES):
            digest.update(line.strip().lower().encode() + b"\0")
    return digest.hexdigest()[:16]


def model_path() -> Path:
    """Where the model for the current inputs lives in the checkout."""
    return BOT_MODELS / f"{model_hash()}.tar.gz"


def ensure_model() -> Path:
    """Return the current model, copying it from the cache or training it if needed."""
    target = model_path()
    if target.exists():
        return target
    BOT_MODELS.mkdir(parents=True, exist_ok=True)
    cached = MODEL_CACHE / target.name
    if not cached.exists():
        MODEL_CACHE.mkdir(parents=True, exist_ok=True)
        print(f"model: training {target.name} (inputs changed)", flush=True)
        started = time.monotonic()
        onnx_file, tokenizer_file = encoder_files()
        subprocess.run(
            [
                str(BOT_PYTHON),
                "-m",
                "rasa",
                "train",
                "--fixed-model-name",
                target.name.removesuffix(".tar.gz"),
                "--out",
                str(MODEL_CACHE),
            ],
            cwd=BOT_DIR,
            check=True,
            env={**os.environ, ENCODER_ENV[0]: str(onnx_file), ENCODER_ENV[1]: str(tokenizer_file)},
        )
        print(f"model: trained in {time.monotonic() - started:.0f} s", flush=True)
    shutil.copy2(cached, target)
    _prune(keep=target)
    return target


def _prune(*, keep: Path, cached_models_kept: int = 5) -> None:
    """Drop superseded models: all but the current one here, all but the newest few in the cache."""
    for old in BOT_MODELS.glob("*.tar.gz"):
        if old != keep:
            old.unlink()
    cached = sorted(MODEL_CACHE.glob("*.tar.gz"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in cached[cached_models_kept:]:
        old.unlink()


def main(argv: list[str]) -> int:
    """CLI entry point."""
    command = argv[1] if len(argv) > 1 else "train"
    if command == "path":
        print(model_path())
    elif command == "hash":
        print(model_hash())
    elif command == "encoder-env":
        # For the Makefile: `env $(python -m devstack.model encoder-env) <bot command>`.
        print(" ".join(f"{name}={path}" for name, path in zip(ENCODER_ENV, encoder_files(), strict=True)))
    elif command == "train":
        try:
            print(f"model: {ensure_model().relative_to(REPO_ROOT)} is up to date")
        except subprocess.CalledProcessError:
            print("model: rasa train failed (see above)", file=sys.stderr)
            return 1
    else:
        print(
            f"usage: python -m devstack.model [train|path|hash|encoder-env], not {command!r}", file=sys.stderr
        )
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
