"""`make eval-faq`: FAQ search quality, answer threshold calibration and latency.

1. Our KB (faq/articles) on faq/eval/questions.csv, in process, for BM25 alone, dense alone and
   the shipped hybrid: top-1/top-3/MRR@10, top-1 per kind, and the answered/none decision
   (bench/faq_metrics.py defines every number). Each method's threshold is calibrated on these
   labels; the hybrid's must equal the shipped `ANSWER_THRESHOLD`.
2. A real CRM (uvicorn, temporary SQLite, demo seed): our KB searched over HTTP (the service must
   agree with the in-process results; HTTP p50/p95 against `GET /livez`), then our articles
   retired and the other shop's KB imported through `POST /api/faq/import` and evaluated with
   the shipped weights and thresholds, nothing retuned: the generalisation check.
3. Latency of `LiveIndex.search` (query encoding included) with the shipped KB and synthetic 1k
   and 100k-article KBs, against encoding alone and BM25 alone in the same run; snapshot build
   and edit cost. The query encoder's onnxruntime settings against the torch baseline
   (bench/faq_encoders.py).

Prints everything and records it in docs/benchmarks.md. Exits non-zero only on a crash: targets
are reported as met or not met.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shlex
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from bench import faq_report, server
from bench.crm import _commit as current_commit
from bench.faq_crm import CrmFaq, HttpSearch, running_crm
from bench.faq_encoders import encoder_comparison
from bench.faq_latency import Latency, build_snapshot, search_latencies, synthetic_kb
from bench.faq_metrics import (
    RANKED_DEPTH,
    Labelled,
    Ranked,
    calibrate,
    curve_summary,
    decide,
    decided,
    load_questions,
    ranking_quality,
)
from bench.faq_report import OTHER, OURS, Evaluation, MethodResult
from bench.report import REPO_ROOT
from faq.content import load_articles
from faq.search import ANSWER_THRESHOLD, ArticleText, Encoder, LiveIndex, Method, Snapshot, prepare_query
from faq.search.encoder import load_encoder
from faq.search.text import dense_phrases

NAME = faq_report.NAME
EVAL_DIR = REPO_ROOT / "faq" / "eval"
OUR_QUESTIONS = EVAL_DIR / "questions.csv"
OTHER_ARTICLES = EVAL_DIR / "other_shop" / "articles.json"
OTHER_QUESTIONS = EVAL_DIR / "other_shop" / "questions.csv"
SYNTHETIC_SIZES = (1_000, 100_000)


def article_text(entry: Mapping[str, Any]) -> ArticleText:
    """An article file entry or import/export object as the search engine sees it."""
    return ArticleText(
        id=str(entry["id"]),
        question=str(entry["question"]),
        answer=str(entry["answer"]),
        alternatives=tuple(entry.get("alternatives") or ()),
    )


def build_index(articles: Sequence[ArticleText], encoder: Encoder) -> Snapshot:
    """The snapshot the CRM would build: `LiveIndex.encode` (phrasing centroids), then `build`."""
    index = LiveIndex(lambda: encoder)

    async def build() -> Snapshot:
        vectors = await index.encode(articles)
        return await index.build(None, upserts=list(zip(articles, vectors, strict=True)))

    return asyncio.run(build())


def rank_in_process(
    snapshot: Snapshot, encoder: Encoder, questions: Sequence[Labelled]
) -> dict[Method, list[Ranked]]:
    """Each method's top RANKED_DEPTH for every question, through `Snapshot.search`."""
    ranked: dict[Method, list[Ranked]] = {method: [] for method in Method}
    for labelled in questions:
        # Respelled once here, so the three methods share one encoding of the query.
        query = snapshot.respelled(prepare_query(labelled.question, encoder))
        for method in Method:
            hits = snapshot.search(query, RANKED_DEPTH, method)
            best = hits[0].score if hits else float("-inf")
            ranked[method].append(Ranked(labelled, tuple(h.article.id for h in hits), best))
    return ranked


def rank_over_http(crm: CrmFaq, questions: Sequence[Labelled]) -> tuple[list[Ranked], list[HttpSearch]]:
    """The CRM's hybrid top RANKED_DEPTH for every question."""
    searches = [crm.search(labelled.question, RANKED_DEPTH) for labelled in questions]
    ranked = [Ranked(q, s.ids, s.best_score) for q, s in zip(questions, searches, strict=True)]
    return ranked, searches


def agreement(http: Sequence[HttpSearch], local: Sequence[Ranked], threshold: float) -> tuple[int, int]:
    """(questions with the same top-1 and the same answered decision, questions)."""
    same = sum(
        s.ids[:1] == r.ids[:1] and s.answered == (r.best_score >= threshold)
        for s, r in zip(http, local, strict=True)
    )
    return same, len(local)


def evaluate_ours(evaluation: Evaluation, encoder: Encoder) -> tuple[Snapshot, dict[Method, list[Ranked]]]:
    """Step 1: quality per method on our KB; calibrate each method's threshold."""
    snapshot = build_index([article_text(a) for a in load_articles()], encoder)
    ranked = rank_in_process(snapshot, encoder, load_questions(OUR_QUESTIONS))
    evaluation.results[OURS] = {}
    for method, outcomes in ranked.items():
        evaluation.calibrated[method] = calibrate(outcomes)
        evaluation.curves[method] = curve_summary(outcomes)
        # The hybrid is judged at the threshold the service ships; the baselines at their own.
        threshold = ANSWER_THRESHOLD if method is Method.HYBRID else evaluation.calibrated[method].threshold
        evaluation.results[OURS][method] = MethodResult(
            ranking_quality(outcomes), decide(outcomes, threshold)
        )
    return snapshot, ranked


def evaluate_through_crm(
    evaluation: Evaluation, encoder: Encoder, ours: Mapping[Method, Sequence[Ranked]], folder: Path
) -> None:
    """Step 2: our KB over HTTP (agreement, latency), then the other shop's KB imported."""
    our_questions = [r.labelled for r in ours[Method.HYBRID]]
    with running_crm(folder) as crm:
        print(f"{NAME}: CRM up; first search waits for its index build")
        crm.search("warm up", 3)
        livez = [crm.livez() for _ in our_questions]
        _, searches = rank_over_http(crm, our_questions)
        evaluation.agreement[OURS] = agreement(searches, ours[Method.HYBRID], ANSWER_THRESHOLD)
        evaluation.http = {
            "GET /livez": Latency.of(livez),
            "GET /api/faq/search?k=10": Latency.of([s.milliseconds for s in searches]),
        }

        print(f"{NAME}: retiring our articles, importing the other shop's through the API")
        crm.retire(crm.active_ids())
        imported = crm.import_articles(json.loads(OTHER_ARTICLES.read_text(encoding="utf-8")))
        print(f"{NAME}: imported {len(imported['created'])} articles")
        exported = [article_text(entry) for entry in crm.export()]
        other_questions = load_questions(OTHER_QUESTIONS)
        other_http, other_searches = rank_over_http(crm, other_questions)

    # BM25 and dense alone are not served: rank them in process over the KB the CRM exported.
    local = rank_in_process(build_index(exported, encoder), encoder, other_questions)
    evaluation.agreement[OTHER] = agreement(other_searches, local[Method.HYBRID], ANSWER_THRESHOLD)
    evaluation.results[OTHER] = {}
    for method in (Method.BM25, Method.DENSE):
        threshold = evaluation.calibrated[method].threshold
        result = MethodResult(ranking_quality(local[method]), decide(local[method], threshold))
        evaluation.results[OTHER][method] = result
    answered = [s.answered for s in other_searches]
    evaluation.results[OTHER][Method.HYBRID] = MethodResult(
        ranking_quality(other_http), decided(other_http, answered)
    )


def measure_latency(
    evaluation: Evaluation, encoder: Encoder, shipped: Snapshot, texts: Sequence[str]
) -> None:
    """Step 3: search latency and build cost, shipped KB then synthetic ones."""
    print(f"{NAME}: latency with the shipped KB ({len(shipped)} articles)")
    evaluation.latency[len(shipped)] = search_latencies(shipped, encoder, texts)
    source = [a.article for a in shipped.articles]
    for size in SYNTHETIC_SIZES:
        print(f"{NAME}: building a synthetic {size:,}-article KB")
        articles, vectors = synthetic_kb(size, source, dimension=shipped.matrix.shape[1])
        snapshot, cost = build_snapshot(articles, vectors)
        evaluation.builds.append(cost)
        print(f"{NAME}: latency with {size:,} articles")
        evaluation.latency[size] = search_latencies(snapshot, encoder, texts)
        del articles, vectors, snapshot
    print(f"{NAME}: query encoder: onnxruntime settings against torch")
    phrases = [text for a in source for text in dense_phrases(a)]
    evaluation.encoders = encoder_comparison(texts, phrases)


def print_results(evaluation: Evaluation) -> None:
    """Every table, then the targets."""
    print(f"\n## Quality\n\n{faq_report.quality_table(evaluation)}\n")
    print("\n".join(faq_report.agreement_lines(evaluation.agreement)))
    print(f"\n## Threshold calibration (ours)\n\n{faq_report.curve_table(evaluation)}\n")
    print(f"## Latency (p50 / p95 ms)\n\n{faq_report.latency_table(evaluation)}\n")
    print(f"{faq_report.http_table(evaluation)}\n")
    print(f"## Query encoder\n\n{faq_report.encoder_table(evaluation)}\n")
    print(f"## Targets\n\n{faq_report.targets_table(evaluation)}\n")
    if not evaluation.threshold_matches:
        calibrated = evaluation.calibrated[Method.HYBRID].threshold
        print(f"{NAME}: ANSWER_THRESHOLD is {ANSWER_THRESHOLD}, the calibration says {calibrated:.2f}")


def main(argv: list[str] | None = None) -> int:
    """Entry point of `python -m bench.faq_eval`."""
    parser = argparse.ArgumentParser(prog="python -m bench.faq_eval", description=__doc__)
    parser.add_argument("--no-record", action="store_true", help="print only; leave docs/benchmarks.md alone")
    parser.add_argument("--note", default="", help="a remark recorded with the run")
    parser.add_argument("--skip-crm", action="store_true", help="no CRM: in-process quality and latency only")
    args = parser.parse_args(argv)
    raw = shlex.join(sys.argv[1:] if argv is None else argv)

    started = time.perf_counter()
    evaluation = Evaluation(shipped_threshold=ANSWER_THRESHOLD)
    print(f"{NAME}: loading the encoder")
    encoder = load_encoder()
    print(f"{NAME}: ranking our questions in process (BM25, dense, hybrid)")
    shipped, ours = evaluate_ours(evaluation, encoder)
    if not args.skip_crm:
        with tempfile.TemporaryDirectory(prefix="eval-faq-") as folder:
            try:
                evaluate_through_crm(evaluation, encoder, ours, Path(folder))
            except server.ServerError as exc:
                print(f"{NAME}: {exc}", file=sys.stderr)
                return 1
    measure_latency(evaluation, encoder, shipped, [r.labelled.question for r in ours[Method.HYBRID]])
    evaluation.seconds = time.perf_counter() - started
    print_results(evaluation)
    if not args.no_record and not args.skip_crm:
        faq_report.record(
            evaluation,
            command_line="make eval-faq" + (f' EVAL_ARGS="{raw}"' if raw else ""),
            note=args.note,
            commit=current_commit(),
            setup=[f"- server: {server.describe(1)}, SQLite, demo seed"],
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
