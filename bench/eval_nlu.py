"""`make eval-nlu`: intent and entity quality of the bot's NLU pipeline (bot/config.yml).

1. Cross-validation on the training data (bot/data/), folds stratified by intent: per-intent
   precision/recall/F1, macro-F1, in-scope rejections, per-entity scores, top confusions.
2. One model trained on all the training data, tested on bot/eval/holdout_own_words.yml
   (customers' own words, none of them training examples) and on the CLINC150 out-of-scope val
   split (out-of-scope recall).

Runs in the bot environment (Rasa 3.6, Python 3.10); models are trained in a temporary
directory. Prints everything and records it in docs/benchmarks.md. Exits non-zero only on an
error (a leaked test message is one): targets are reported as met or not met.
"""

from __future__ import annotations

import argparse
import shlex
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from rasa.shared.nlu.training_data.training_data import TrainingData

from bench import nlu_report
from bench.nlu_data import (
    Example,
    LeakError,
    assert_no_duplicates,
    assert_unseen,
    examples_of,
    load_clinc_split,
    load_test_data,
    load_training_data,
    stratified_folds,
    training_texts,
    untested_intents,
)
from bench.nlu_evaluation import SCORED_ENTITIES, Evaluation, replay_agreement
from bench.nlu_metrics import OUT_OF_SCOPE_INTENT, Prediction, entity_errors
from bench.nlu_model import (
    Parser,
    describe_pipeline,
    evaluation_config,
    fallback_settings,
    quiet_rasa_logs,
    train_model,
)
from bench.nlu_report import NAME
from bench.report import REPO_ROOT, current_commit

BOT_DIR = REPO_ROOT / "bot"
DEFAULT_CONFIG = BOT_DIR / "config.yml"
TRAINING_DATA = BOT_DIR / "data"
HOLDOUT = BOT_DIR / "eval" / "holdout_own_words.yml"
CLINC_CSV = REPO_ROOT.parent / "shared" / "datasets" / "clinc150-out-of-scope" / "out_of_scope_train_val.csv"
MIN_HOLDOUT_PER_INTENT = 6
QUICK_FOLDS, QUICK_EPOCHS = 2, 20
SEED = 42


def load_test_sets(training_texts_seen: set[str]) -> tuple[list[Example], list[Example]]:
    """The own-words holdout and the CLINC150 val split, checked against the training data."""
    holdout = load_test_data(HOLDOUT)
    clinc_val = [
        Example(text=text, intent=OUT_OF_SCOPE_INTENT, entities=())
        for text in load_clinc_split(CLINC_CSV, "val")
    ]
    assert_no_duplicates("the own-words holdout", [e.text for e in holdout])
    assert_unseen("own-words holdout", (e.text for e in holdout), training_texts_seen)
    assert_unseen("CLINC150 val", (e.text for e in clinc_val), training_texts_seen)
    return holdout, clinc_val


def warn_about_coverage(holdout: Sequence[Example], trained_intents: set[str]) -> None:
    """Say which intents the holdout tests too little, or that the model never saw."""
    counts = {intent: sum(e.intent == intent for e in holdout) for intent in trained_intents}
    thin = sorted(f"{i} ({n})" for i, n in counts.items() if n < MIN_HOLDOUT_PER_INTENT)
    unknown = sorted({e.intent for e in holdout} - trained_intents)
    if thin:
        print(f"{NAME}: warning: fewer than {MIN_HOLDOUT_PER_INTENT} holdout messages for {', '.join(thin)}")
    if unknown:
        print(f"{NAME}: warning: holdout intents with no training data: {', '.join(unknown)}")


def cross_validate(evaluation: Evaluation, training_data: TrainingData, config: Path, workdir: Path) -> None:
    """Train on all folds but one, test on that one, for every fold; predictions pooled."""
    for k, fold in enumerate(stratified_folds(training_data, evaluation.folds, seed=SEED), start=1):
        print(
            f"{NAME}: fold {k}/{evaluation.folds}: training, then testing {len(fold.test)} messages",
            flush=True,
        )
        started = time.perf_counter()
        model = train_model(config, fold.train, workdir, f"fold{k}")
        evaluation.train_seconds.append(time.perf_counter() - started)
        evaluation.cross_validation += Parser(model).predict(fold.test)
        print(f"{NAME}: fold {k}: trained in {evaluation.train_seconds[-1]:.0f} s, tested", flush=True)


def evaluate_full_model(
    evaluation: Evaluation,
    training_data: TrainingData,
    config: Path,
    workdir: Path,
    *,
    holdout: list[Example],
    clinc_val: list[Example],
) -> None:
    """Train on all the training data; test on the holdout and the out-of-scope queries."""
    print(
        f"{NAME}: training on all the data, then testing {len(holdout)} + {len(clinc_val)} messages",
        flush=True,
    )
    started = time.perf_counter()
    model = train_model(config, training_data, workdir, "full")
    evaluation.train_seconds.append(time.perf_counter() - started)
    print(f"{NAME}: full model trained in {evaluation.train_seconds[-1]:.0f} s", flush=True)
    parser = Parser(model)
    evaluation.holdout = parser.predict(holdout)
    evaluation.out_of_scope = parser.predict(clinc_val)


def _error_line(p: Prediction) -> str:
    because = f" (classified as {p.classified_as})" if p.intent != p.classified_as else ""
    return f"  {p.gold_intent} -> {p.intent} {p.confidence:.2f}{because}: {p.text!r}"


def print_errors(title: str, predictions: Sequence[Prediction]) -> None:
    """Every misclassified message, grouped by labelled intent, for reading."""
    wrong = sorted((p for p in predictions if p.scored_intent != p.gold_intent), key=lambda p: p.gold_intent)
    print(f"\n## {title}: {len(wrong)} misclassified\n")
    print("\n".join(_error_line(p) for p in wrong))


def print_entity_errors(title: str, predictions: Sequence[Prediction]) -> None:
    """Messages whose scored entities were not found exactly."""
    wrong = entity_errors(predictions, SCORED_ENTITIES)
    print(f"\n## {title}: {len(wrong)} messages with entity errors\n")
    for p in wrong:
        gold = [(s.entity, s.value) for s in p.gold_entities]
        found = [(s.entity, s.value) for s in p.entities if s.entity in SCORED_ENTITIES]
        print(f"  {p.text!r}: labelled {gold}, found {found}")


def print_results(evaluation: Evaluation) -> None:
    """Everything recorded, and the individual errors behind it."""
    print_errors("cross-validation", evaluation.cross_validation)
    print_errors("own-words holdout", evaluation.holdout)
    print_entity_errors("cross-validation", evaluation.cross_validation)
    print_entity_errors("own-words holdout", evaluation.holdout)
    print(f"\n## Setup\n\n{chr(10).join(nlu_report.setup_lines(evaluation))}\n")
    print(f"## Intents\n\n{nlu_report.intent_table(evaluation)}\n")
    cv_confusions = nlu_report.confusion_table(evaluation.cross_validation, evaluation.cv_intents)
    print(f"## Confusions (cross-validation)\n\n{cv_confusions}\n")
    holdout_confusions = nlu_report.confusion_table(evaluation.holdout, evaluation.holdout_intents)
    print(f"## Confusions (holdout)\n\n{holdout_confusions}\n")
    print(f"## Entities\n\n{nlu_report.entity_table(evaluation)}\n")
    print("## Out of scope (CLINC150 val)\n\n" + "\n".join(nlu_report.rejection_lines(evaluation)) + "\n")
    same, total = replay_agreement(evaluation)
    print(f"## Fallback thresholds (replayed; reproduces {same}/{total} predictions)\n")
    print(f"{nlu_report.fallback_table(evaluation)}\n")
    print(f"## Targets\n\n{nlu_report.targets_table(evaluation)}\n")


def _shown_path(path: Path) -> str:
    """`path` relative to the repository when it is inside it."""
    resolved = path.resolve()
    return str(resolved.relative_to(REPO_ROOT)) if resolved.is_relative_to(REPO_ROOT) else str(path)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.eval_nlu",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--folds", type=int, default=5, help="cross-validation folds (default 5)")
    parser.add_argument("--epochs", type=int, help="override the epochs of every trained component")
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"{QUICK_FOLDS} folds at {QUICK_EPOCHS} epochs, not recorded: for developing, not for numbers",
    )
    parser.add_argument(
        "--config", type=Path, default=DEFAULT_CONFIG, help="the pipeline (default bot/config.yml)"
    )
    parser.add_argument("--no-record", action="store_true", help="print only; leave docs/benchmarks.md alone")
    parser.add_argument("--note", default="", help="a remark recorded with the run")
    args = parser.parse_args(argv)
    if args.quick:
        args.folds, args.epochs, args.no_record = QUICK_FOLDS, args.epochs or QUICK_EPOCHS, True
    if args.folds < 2:
        parser.error("--folds must be at least 2")
    return args


def main(argv: list[str] | None = None) -> int:
    """Entry point of `python -m bench.eval_nlu`."""
    args = parse_args(argv)
    raw = shlex.join(sys.argv[1:] if argv is None else argv)
    started = time.perf_counter()
    quiet_rasa_logs()
    # One snapshot of the training data, and the commit it belongs to: the files may change
    # (and be committed) while this runs.
    commit = current_commit()
    training_data = load_training_data(TRAINING_DATA)
    try:
        holdout, clinc_val = load_test_sets(training_texts(training_data))
    except LeakError as exc:
        print(f"{NAME}: {exc}", file=sys.stderr)
        return 1
    scored_training = examples_of(training_data.intent_examples)
    warn_about_coverage(holdout, {e.intent for e in scored_training})
    with tempfile.TemporaryDirectory(prefix="eval-nlu-") as folder:
        workdir = Path(folder)
        config = evaluation_config(args.config, workdir, epochs=args.epochs)
        evaluation = Evaluation(
            folds=args.folds,
            config_file=_shown_path(args.config),
            pipeline=describe_pipeline(config),
            training_examples=len(scored_training),
            training_intents=len({e.intent for e in scored_training}),
            holdout_file=str(HOLDOUT.relative_to(REPO_ROOT)),
            fallback=fallback_settings(config),
            untested_intents=untested_intents(training_data, args.folds),
        )
        cross_validate(evaluation, training_data, config, workdir)
        evaluate_full_model(evaluation, training_data, config, workdir, holdout=holdout, clinc_val=clinc_val)
    evaluation.seconds = time.perf_counter() - started
    print_results(evaluation)
    if not args.no_record:
        command_line = "make eval-nlu" + (f' EVAL_ARGS="{raw}"' if raw else "")
        nlu_report.record(evaluation, command_line=command_line, note=args.note, commit=commit)
    return 0


if __name__ == "__main__":
    sys.exit(main())
