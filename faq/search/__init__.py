"""FAQ search: an all-MiniLM-L6-v2 embedding (on onnxruntime) and BM25, fused, over an immutable index."""

from faq.search.encoder import Encoder, OnnxEncoder, load_encoder
from faq.search.index import Hit, IndexedArticle, Method, Query, Snapshot, index_articles, prepare_query
from faq.search.live import ANSWER_THRESHOLD, LiveIndex, SearchResult
from faq.search.text import ArticleText, dense_phrases

__all__ = [
    "ANSWER_THRESHOLD",
    "ArticleText",
    "Encoder",
    "Hit",
    "IndexedArticle",
    "LiveIndex",
    "Method",
    "OnnxEncoder",
    "Query",
    "SearchResult",
    "Snapshot",
    "dense_phrases",
    "index_articles",
    "load_encoder",
    "prepare_query",
]
