"""`python -m faq.search.export_encoder`: export the encoder to ONNX unless cached (`make setup`)."""

from __future__ import annotations

import logging
import sys

from faq.search.onnx_model import ensure_exported


def main() -> int:
    """Export unless a cached file fits the model and exporter, then print its path."""
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    print(f"faq encoder: {ensure_exported()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
