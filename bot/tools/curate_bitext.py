"""Curation helper for the NLU training data (not used at run time).

    python bot/tools/curate_bitext.py pick [--per-intent 26] [INTENT ...]
        Proposes a diverse sample of Bitext customer-support utterances per intent, with the
        order ids rewritten to this shop's format (annotated as order_number), invoice ids
        rewritten to INV-2026-NNNNN, Bitext's account types rewritten to plain words and
        near-duplicates (one word apart) dropped. The output is a starting point that was
        then reviewed by hand and pasted into bot/data/nlu*.yml next to our own phrasings.

    python bot/tools/curate_bitext.py check
        Checks bot/data/nlu*.yml: examples per intent (Bitext-curated block / own block),
        intents spread over several files, duplicates, examples that leak the CLINC150 val
        split or the NLU test sets (bot/eval/*.yml), overlaps with the FAQ evaluation
        questions, and annotated entity values that the regexes in nlu.yml do not match.
        Exits 1 on a PROBLEM; NOTEs are for reading.

Only the standard library and PyYAML (both environments have it) are needed. The datasets
are read from /work/shared/datasets (see its README); nothing here runs at training or run time.
"""

from __future__ import annotations

import argparse
import collections
import csv
import hashlib
import re
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
BITEXT = Path("/work/shared/datasets/bitext-customer-support/bitext_customer_support_6480.csv")
CLINC = Path("/work/shared/datasets/clinc150-out-of-scope/out_of_scope_train_val.csv")
FAQ_EVAL = ROOT / "faq" / "eval" / "questions.csv"
HOLDOUT = ROOT / "bot" / "eval"  # test sets of `make eval-nlu`: never train on them
DATA = ROOT / "bot" / "data"

# Words Bitext uses for its "offensive" variation: the strongest are dropped, the mild
# ones are kept at most once per intent (real customers do swear a little).
STRONG_SWEARING = re.compile(r"fuck|goddamn|shit", re.IGNORECASE)
MILD_SWEARING = re.compile(r"\b(damn|bloody)\b", re.IGNORECASE)

# Per intent: Bitext utterances that would contradict how the bot uses the intent, or
# that use words no customer of a clothes shop would (PINs, contracts, "earn" for "buy").
DROP = {
    # "when will MY parcel arrive" is track_order for this bot; keep the generic ones.
    "delivery_period": re.compile(r"\bmy\w?\b|\bm\b|arrive|expect", re.IGNORECASE),
    "check_cancellation_fee": re.compile(r"contract|early exit", re.IGNORECASE),
    "place_order": re.compile(r"\bearn", re.IGNORECASE),
    "recover_password": re.compile(r"\bpin\b|access key", re.IGNORECASE),
    "create_account": re.compile(r"bride|fianc", re.IGNORECASE),
    "switch_account": re.compile(r"damn my", re.IGNORECASE),
}
# Per intent: only utterances with one of these words (track_refund: "I expect a refund of
# $160" reads like asking for one; the status-like ones are kept).
KEEP = {
    "track_refund": re.compile(r"status|track|update|new|process", re.IGNORECASE),
}

SWITCH_ACCOUNT_WORDS = ["my other", "another", "my second", "my partner's", "my work", "a different"]


def _digits(seed: str, n: int = 6) -> str:
    """A stable pseudo-random order number for a Bitext row (no `random`: reproducible)."""
    h = int(hashlib.sha256(seed.encode()).hexdigest(), 16)
    first = "1" if n == 6 else str(1 + h % 3)
    return first + str(h % 10 ** (n - 1)).zfill(n - 1)


def _order_number(seed: str) -> str:
    h = int(hashlib.sha256(("fmt" + seed).encode()).hexdigest(), 16)
    number = _digits(seed, 7 if h % 7 == 0 else 6)
    forms = ["ORD-{}", "{}", "#{}", "ord {}", "ORD-{}", "ORD{}", "{}", "ORD-{}"]
    return forms[h % len(forms)].format(number)


def _invoice_number(seed: str) -> str:
    return "INV-2026-" + _digits(seed, 6)[1:]


def rewrite(row: dict[str, str]) -> str | None:
    """The utterance in this shop's words, or None when it should not be used at all."""
    text, kind = row["instruction"].strip(), row["entity_type"]
    if kind == "person_name":
        return None
    if kind in {"order_id", "invoice_id", "account_type"}:
        start, end = int(row["start_offset"]), int(row["end_offset"])
        if kind == "order_id":
            new = f"[{_order_number(text)}](order_number)"
        elif kind == "invoice_id":
            new = _invoice_number(text)
        elif row["intent"] == "switch_account":
            h = int(hashlib.sha256(text.encode()).hexdigest(), 16)
            new = SWITCH_ACCOUNT_WORDS[h % len(SWITCH_ACCOUNT_WORDS)]
        else:
            new = ""
        before = text[:start]
        if kind == "invoice_id" and before.endswith("#"):
            before = before[:-1]
        text = before + new + text[end:]
        if row["intent"] == "switch_account":
            text = re.sub(r"\b(the|a|my) (my|another|a) ", r"\2 ", text)
        if kind == "account_type":
            text = re.sub(r"\ba( +)(account|profile)", r"an \2", text)
            text = re.sub(r"\b(on|to|of|from) +(ac\w*|profile)\b", r"\1 my \2", text)
            text = re.sub(r"\b(an?) (my|another|a) ", r"\2 ", text)
    # The shop's prices are in euros.
    text = re.sub(r"\$ ?(\d+)", r"€\1", text)
    text = re.sub(r"\b(\d+) dollars\b", r"\1 euros", text)
    return re.sub(r"  +", " ", text).strip()


def _words(text: str) -> list[str]:
    text = re.sub(r"\[([^\]]+)\]\([a-z_]+\)", "N", text.lower())
    return re.findall(r"[a-z']+|\d+", text)


def _one_word_apart(a: list[str], b: list[str]) -> bool:
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        return sum(x != y for x, y in zip(a, b, strict=True)) <= 1
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    return any(long_[:i] + long_[i + 1 :] == short for i in range(len(long_)))


def _jaccard_distance(a: set[str], b: set[str]) -> float:
    return 1.0 - len(a & b) / max(1, len(a | b))


def pick(rows: list[dict[str, str]], n: int) -> list[str]:
    """Greedy diverse sample: most different wording first, new variation tags preferred."""
    candidates: list[tuple[str, str]] = []
    for row in sorted(rows, key=lambda r: hashlib.sha256(r["instruction"].encode()).hexdigest()):
        text = rewrite(row)
        drop, keep = DROP.get(row["intent"]), KEEP.get(row["intent"])
        if text is None or STRONG_SWEARING.search(text) or (drop and drop.search(text)):
            continue
        if keep and not keep.search(text):
            continue
        candidates.append((text, row["tags"]))
    chosen: list[tuple[str, str]] = []
    mild = 0
    while candidates and len(chosen) < n:
        seen_tags = {t for _, tags in chosen for t in tags}

        def score(c: tuple[str, str], seen: set[str] = seen_tags) -> float:
            words = set(_words(c[0]))
            distance = min((_jaccard_distance(words, set(_words(t))) for t, _ in chosen), default=1.0)
            return distance + 0.1 * len(set(c[1]) - seen)

        best = max(candidates, key=score)
        candidates.remove(best)
        if any(_one_word_apart(_words(best[0]), _words(t)) for t, _ in chosen):
            continue
        if MILD_SWEARING.search(best[0]):
            if mild:
                continue
            mild += 1
        chosen.append(best)
    return [text for text, _ in chosen]


def cmd_pick(args: argparse.Namespace) -> None:
    by_intent: dict[str, list[dict[str, str]]] = collections.defaultdict(list)
    with BITEXT.open(newline="") as f:
        for row in csv.DictReader(f):
            by_intent[row["intent"]].append(row)
    for intent in args.intents or sorted(by_intent):
        print(f"  - intent: {intent}\n    examples: |")
        for text in pick(by_intent[intent], args.per_intent):
            print(f"      - {text}")
        print()


# --- check -------------------------------------------------------------------------------

ANNOTATION = re.compile(r"\[([^\]]+)\](?:\(([a-z_]+)\)|\{\"entity\": \"([a-z_]+)\"\})")


def _plain(example: str) -> str:
    return ANNOTATION.sub(lambda m: m.group(1), example).strip()


def load_nlu() -> tuple[dict[str, list[tuple[str, str]]], dict[str, list[str]]]:
    """Examples per intent as (file name, example) and regex patterns per entity.

    A Bitext intent has two blocks in its file: the curated Bitext examples, then our own;
    the file name of an example in a first block of two is marked with a trailing "*".
    """
    import yaml

    intents: dict[str, list[tuple[str, str]]] = collections.defaultdict(list)
    blocks: dict[str, list[list[tuple[str, str]]]] = collections.defaultdict(list)
    regexes: dict[str, list[str]] = collections.defaultdict(list)
    for path in sorted(DATA.glob("nlu*.yml")):
        doc: dict[str, Any] = yaml.safe_load(path.read_text())
        for block in doc.get("nlu", []):
            lines = [
                line[2:].strip() for line in block["examples"].splitlines() if line.strip().startswith("- ")
            ]
            if "intent" in block:
                blocks[block["intent"]].append([(path.name, line) for line in lines])
            elif "regex" in block:
                regexes[block["regex"]].extend(lines)
    for intent, parts in blocks.items():
        if len(parts) == 2:
            parts[0] = [(name + "*", line) for name, line in parts[0]]
        for part in parts:
            intents[intent].extend(part)
    return intents, regexes


def cmd_check(_: argparse.Namespace) -> int:
    intents, regexes = load_nlu()
    problems = 0
    with BITEXT.open(newline="") as f:
        bitext_words = {tuple(_words(r["instruction"])) for r in csv.DictReader(f)}
    with BITEXT.open(newline="") as f:
        rewritten = {tuple(_words(t)) for r in csv.DictReader(f) if (t := rewrite(r))}
    total = from_bitext = 0
    files: dict[str, set[str]] = collections.defaultdict(set)
    print(f"{'intent':28} {'total':>5} {'bitext':>6} {'own':>4}  file")
    for intent in sorted(intents):
        examples = intents[intent]
        curated = [e for name, e in examples if name.endswith("*")]
        for e in curated:
            if tuple(_words(e)) not in rewritten and tuple(_words(e)) not in bitext_words:
                print(f"NOTE: edited Bitext example ({intent}): {e!r}")
        for name, _example in examples:
            files[intent].add(name.rstrip("*"))
        total += len(examples)
        from_bitext += len(curated)
        names = ",".join(sorted(files[intent]))
        print(f"{intent:28} {len(examples):5} {len(curated):6} {len(examples) - len(curated):4}  {names}")
    print(f"{'TOTAL':28} {total:5} {from_bitext:6} {total - from_bitext:4}")

    for intent, intent_files in files.items():
        if len(intent_files) > 1:
            print(f"PROBLEM: {intent} is spread over {sorted(intent_files)}")
            problems += 1
    owner: dict[str, str] = {}
    for intent, examples in intents.items():
        for _name, e in examples:
            key = " ".join(_plain(e).lower().split())
            if key in owner:
                print(f"PROBLEM: duplicate {e!r} in {owner[key]} and {intent}")
                problems += 1
            owner[key] = intent
    with CLINC.open(newline="") as f:
        val = {" ".join(r["text"].lower().split()) for r in csv.DictReader(f) if r["split"] == "val"}
    with FAQ_EVAL.open(newline="") as f:
        faq_eval = {" ".join(r["question"].lower().split()) for r in csv.DictReader(f)}
    for key, intent in owner.items():
        if key in val:
            print(f"PROBLEM: CLINC150 val example under {intent}: {key!r}")
            problems += 1
        if key in faq_eval:
            print(f"NOTE: also an FAQ evaluation question (faq/eval), under {intent}: {key!r}")

    import yaml

    for path in sorted(HOLDOUT.glob("*.yml")):
        doc = yaml.safe_load(path.read_text()) or {}
        for block in doc.get("nlu", []):
            for line in str(block.get("examples", "")).splitlines():
                if not line.strip().startswith("- "):
                    continue
                text = _plain(line.strip()[2:])
                key = " ".join(text.lower().split())
                if key in owner:
                    print(f"PROBLEM: test example of {path.name} is training data ({owner[key]}): {key!r}")
                    problems += 1
                elif len(_words(text)) >= 4 and any(_one_word_apart(_words(text), _words(k)) for k in owner):
                    print(f"NOTE: one word away from a test example of {path.name}: {key!r}")

    compiled = {name: [re.compile(p, re.IGNORECASE) for p in ps] for name, ps in regexes.items()}
    for intent, examples in intents.items():
        for _name, e in examples:
            plain = _plain(e)
            for m in ANNOTATION.finditer(e):
                entity = m.group(2) or m.group(3)
                if entity in compiled and not any(p.fullmatch(m.group(1)) for p in compiled[entity]):
                    print(f"PROBLEM: {entity} {m.group(1)!r} not matched by its regex ({intent})")
                    problems += 1
            annotated = {m.group(1) for m in ANNOTATION.finditer(e)}
            for entity, patterns in compiled.items():
                for p in patterns:
                    for hit in p.finditer(plain):
                        if hit.group(0) not in annotated:
                            print(f"NOTE: regex {entity} matches {hit.group(0)!r} unannotated: {e!r}")
    return 1 if problems else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("pick")
    p.add_argument("--per-intent", type=int, default=26)
    p.add_argument("intents", nargs="*")
    p.set_defaults(func=cmd_pick)
    c = sub.add_parser("check")
    c.set_defaults(func=cmd_check)
    args = parser.parse_args()
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
