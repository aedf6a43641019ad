"""A recording wrapper around the real sentence encoder, for tests that count or place its work."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field

from faq.search import Encoder, load_encoder
from faq.search.encoder import Vectors


@dataclass
class RecordingEncoder:
    """The real encoder; records the article texts and queries it encodes, and on which threads."""

    inner: Encoder = field(default_factory=load_encoder)
    texts: list[str] = field(default_factory=list)
    queries: list[str] = field(default_factory=list)
    threads: set[int] = field(default_factory=set)

    @property
    def name(self) -> str:
        """The wrapped model's name."""
        return self.inner.name

    def encode(self, texts: Sequence[str]) -> Vectors:
        """Record, then encode with the real model."""
        self.threads.add(threading.get_ident())
        self.texts.extend(texts)
        return self.inner.encode(texts)

    def encode_query(self, text: str) -> Vectors:
        """Record, then encode with the real model."""
        self.threads.add(threading.get_ident())
        self.queries.append(text)
        return self.inner.encode_query(text)

    def loader(self) -> Encoder:
        """For `LiveIndex(encoder_loader=...)`."""
        return self
