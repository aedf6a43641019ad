"""Tables and the docs/benchmarks.md section of `make eval-nlu`."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from bench.nlu_evaluation import (
    SCORED_ENTITIES,
    Evaluation,
    all_met,
    fallback_point,
    percent,
    targets,
)
from bench.nlu_metrics import EntityReport, IntentReport, Prediction
from bench.report import (
    BENCHMARKS_DOC,
    history,
    keep_history,
    machine,
    markdown_table,
    now,
    write_section,
)

NAME = "eval-nlu"
CONFUSIONS_SHOWN = 15
SWEEP_THRESHOLDS = (0.3, 0.4, 0.5, 0.6, 0.7)
SWEEP_AMBIGUITIES = (0.0, 0.05, 0.1)
HISTORY_HEADER = (
    "date",
    "commit",
    "CV macro-F1",
    "holdout macro-F1",
    "rejected CV / holdout",
    "OOS recall",
    "entity F1 CV / holdout",
    "run time",
    "targets",
    "note",
)


def targets_table(evaluation: Evaluation) -> str:
    """The targets, met or **NOT met**."""
    rows = [[t.label, t.measured, "met" if t.met else "**NOT met**"] for t in targets(evaluation)]
    return markdown_table(["target", "measured", ""], rows)


def _scores(report: IntentReport | EntityReport, name: str) -> list[str]:
    per_label = report.per_intent if isinstance(report, IntentReport) else report.per_entity
    s = per_label.get(name)
    if s is None or not (s.support or s.predicted):
        return [str(s.support) if s else "-", "-", "-", "-"]
    return [str(s.support), f"{s.precision:.3f}", f"{s.recall:.3f}", f"{s.f1:.3f}"]


def intent_table(evaluation: Evaluation) -> str:
    """Per-intent precision, recall and F1, cross-validation beside holdout."""
    cv, holdout = evaluation.cv_intents, evaluation.holdout_intents
    names = sorted(set(cv.per_intent) | set(holdout.per_intent))
    rows = [[f"`{name}`", *_scores(cv, name), *_scores(holdout, name)] for name in names]
    rows.append(
        ["**macro**", "", "", "", f"**{cv.macro_f1:.3f}**", "", "", "", f"**{holdout.macro_f1:.3f}**"]
    )
    header = ["intent", "CV n", "CV P", "CV R", "CV F1", "holdout n", "holdout P", "holdout R", "holdout F1"]
    return markdown_table(header, rows)


def entity_table(evaluation: Evaluation) -> str:
    """Per-entity precision, recall and F1 (exact spans), cross-validation beside holdout."""
    cv, holdout = evaluation.cv_entities, evaluation.holdout_entities
    rows = [[f"`{name}`", *_scores(cv, name), *_scores(holdout, name)] for name in SCORED_ENTITIES]
    rows.append(
        [
            "**all (micro)**",
            str(cv.micro.support),
            f"{cv.micro.precision:.3f}",
            f"{cv.micro.recall:.3f}",
            f"**{cv.micro.f1:.3f}**",
            str(holdout.micro.support),
            f"{holdout.micro.precision:.3f}",
            f"{holdout.micro.recall:.3f}",
            f"**{holdout.micro.f1:.3f}**",
        ]
    )
    header = ["entity", "CV n", "CV P", "CV R", "CV F1", "holdout n", "holdout P", "holdout R", "holdout F1"]
    return markdown_table(header, rows)


def _example(predictions: Sequence[Prediction], gold: str, predicted: str) -> str:
    text = next(p.text for p in predictions if p.gold_intent == gold and p.intent == predicted)
    return '"' + text.replace("|", "\\|")[:70] + '"'


def confusion_table(predictions: Sequence[Prediction], report: IntentReport) -> str:
    """The most frequent (labelled, predicted) pairs, with one message of each."""
    rows = [
        [f"`{gold}`", f"`{predicted}`", str(n), _example(predictions, gold, predicted)]
        for gold, predicted, n in report.confusions[:CONFUSIONS_SHOWN]
    ]
    return markdown_table(["labelled", "predicted", "count", "e.g."], rows) if rows else "No confusions."


def rejection_lines(evaluation: Evaluation) -> list[str]:
    """Out-of-scope recall and where the accepted out-of-scope messages went."""
    r = evaluation.rejection
    accepted = ", ".join(f"`{intent}` {n}" for intent, n in r.accepted_as[:8]) or "none"
    return [
        f"- recall {r.recall:.3f}: {r.as_out_of_scope + r.as_fallback} of {r.messages} rejected "
        f"({r.as_out_of_scope} as `out_of_scope`, {r.as_fallback} as `nlu_fallback`)",
        f"- accepted as: {accepted}",
    ]


def fallback_table(evaluation: Evaluation) -> str:
    """The targets' numbers at other fallback thresholds: choose on CV, confirm on the test sets."""
    shipped = evaluation.fallback
    thresholds = sorted({*SWEEP_THRESHOLDS, shipped[0]})
    ambiguities = sorted({*SWEEP_AMBIGUITIES, shipped[1]})
    rows = []
    for threshold in thresholds:
        for ambiguity in ambiguities:
            point = fallback_point(evaluation, threshold, ambiguity)
            rows.append(
                [
                    f"{threshold:.2f}",
                    f"{ambiguity:.2f}",
                    f"{point.cv.macro_f1:.3f}",
                    percent(point.cv.in_scope_rejection_rate),
                    f"{point.cv_out_of_scope_recall:.3f}",
                    f"{point.holdout.macro_f1:.3f}",
                    percent(point.holdout.in_scope_rejection_rate),
                    f"{point.val_out_of_scope_recall:.3f}",
                    "**shipped**" if (threshold, ambiguity) == shipped else "",
                ]
            )
    header = [
        "threshold",
        "ambiguity",
        "CV macro-F1",
        "CV rejected",
        "CV OOS recall",
        "holdout macro-F1",
        "holdout rejected",
        "val OOS recall",
        "",
    ]
    return markdown_table(header, rows)


def _history_row(evaluation: Evaluation, *, date: str, commit: str, note: str) -> str:
    cv, holdout = evaluation.cv_intents, evaluation.holdout_intents
    cells = [
        date,
        commit,
        f"{cv.macro_f1:.3f}",
        f"{holdout.macro_f1:.3f}",
        f"{percent(cv.in_scope_rejection_rate)} / {percent(holdout.in_scope_rejection_rate)}",
        f"{evaluation.rejection.recall:.3f}",
        f"{evaluation.cv_entities.micro.f1:.3f} / {evaluation.holdout_entities.micro.f1:.3f}",
        f"{evaluation.seconds / 60:.1f} min",
        "met" if all_met(evaluation) else "not met",
        note,
    ]
    return "| " + " | ".join(cells) + " |"


def record(
    evaluation: Evaluation, *, command_line: str, note: str, commit: str, doc: Path = BENCHMARKS_DOC
) -> None:
    """Rewrite the eval-nlu section of `doc`, keeping its history and notes."""
    date = now()
    rows = keep_history(history(NAME, doc), _history_row(evaluation, date=date, commit=commit, note=note))
    details = [f"- date: {date}", f"- commit: {commit}", f"- command: `{command_line}`"]
    details += [f"- machine: {machine()}", *setup_lines(evaluation)]
    if note:
        details.append(f"- note: {note}")
    newline = "\n"
    write_section(
        NAME,
        f"""## eval-nlu: intent and entity recognition

`bench/eval_nlu.py`. The NLU pipeline (`bot/config.yml` unless the run says otherwise) measured three ways:
{evaluation.folds}-fold cross-validation on the training data (`bot/data/`, folds stratified by
intent); one model trained on all of it, tested on messages in customers' own words that are
not in the training data (`{evaluation.holdout_file}`); and the same model on the val split of
the CLINC150 out-of-scope queries (the train split is training data). The script refuses to run
if a test message is also a training example. A message is *rejected* when the bot would
refuse it or fall back: predicted `out_of_scope` or `nlu_fallback` (FallbackClassifier); in the
intent scores a fallback counts as `out_of_scope`, so it is right only for out-of-scope
messages. Entities count when type and span are exact; all extractors together, as the
bot's slots see them; `choose_faq` and `faq_article` (button payloads) are not scored.

### Latest run

{newline.join(details)}

#### Targets

{targets_table(evaluation)}

#### Intents

{intent_table(evaluation)}

#### Confusions (cross-validation)

{confusion_table(evaluation.cross_validation, evaluation.cv_intents)}

#### Confusions (own-words holdout)

{confusion_table(evaluation.holdout, evaluation.holdout_intents)}

#### Entities

{entity_table(evaluation)}

#### Out of scope (CLINC150 val)

{newline.join(rejection_lines(evaluation))}

#### Fallback thresholds (replayed)

FallbackClassifier's rule replayed on this run's classifier confidences, no retraining:
choose on the cross-validation columns (CV OOS recall is on the CLINC150 train split), confirm
on the holdout and val columns.

{fallback_table(evaluation)}

### History

{markdown_table(HISTORY_HEADER, [])}
{newline.join(rows)}
""",
        doc,
    )
    print(f"{NAME}: recorded in {doc}")


def setup_lines(evaluation: Evaluation) -> list[str]:
    """How the numbers were obtained: data sizes, pipeline, run time."""
    lines = [
        f"- training data: {evaluation.training_examples} examples, {evaluation.training_intents} intents",
        f"- test sets: {len(evaluation.holdout)} own-words messages, "
        f"{len(evaluation.out_of_scope)} CLINC150 val queries",
        f"- pipeline (`{evaluation.config_file}`): {evaluation.pipeline}",
        f"- run time: {evaluation.seconds:.0f} s ({len(evaluation.train_seconds)} models trained, "
        f"{sum(evaluation.train_seconds):.0f} s of training)",
    ]
    if evaluation.untested_intents:
        lines.append(f"- too few examples to cross-validate: {', '.join(evaluation.untested_intents)}")
    return lines
