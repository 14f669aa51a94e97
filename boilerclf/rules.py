"""User rules: fix what the model gets wrong on one site in a minute, without retraining.

A rules file (TOML, or YAML when PyYAML is installed) lists rules; each matches paragraphs by a
literal phrase or a regular expression and forces a decision:

    [[rule]]
    name = "our newsletter box"
    phrase = "Get The Harbour Brief every morning"   # case-insensitive substring
    action = "drop"                                  # drop | keep
    label = "appeal"                                 # label of dropped text: appeal | debris

    [[rule]]
    name = "section names are subheads here"
    regex = "^(Background|What happens next)$"
    action = "keep"
    lang = "en"                                      # only for documents known to be English

Rules run after the model, first match wins, and every decision records the rule that made it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from .data import DataError

ACTIONS = ("drop", "keep")
DROP_LABELS = ("appeal", "debris")


@dataclass(frozen=True)
class Rule:
    """One rule: where it matches, and what it decides."""

    name: str
    pattern: re.Pattern[str]
    action: str
    label: str
    lang: str | None = None

    def matches(self, text: str, lang: str | None) -> bool:
        if self.lang is not None and self.lang != lang:
            return False
        return self.pattern.search(text) is not None


def load_rules(path: str | Path) -> list[Rule]:
    """Rules from a TOML or YAML file; any problem is one `DataError` naming the rule."""
    path = Path(path)
    try:
        raw = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise DataError(f"{path}: cannot read rules ({exc.strerror or exc})") from None
    if path.suffix.lower() in (".yaml", ".yml"):
        try:
            import yaml
        except ImportError:
            raise DataError(f"{path}: YAML rules need PyYAML (pip install pyyaml), or write them in TOML") from None
        try:
            data = yaml.safe_load(raw) or {}
        except yaml.YAMLError as exc:
            raise DataError(f"{path}: invalid YAML ({str(exc).splitlines()[0]})") from None
    else:
        try:
            import tomllib
        except ImportError:  # Python 3.10
            import tomli as tomllib  # type: ignore[no-redef]
        try:
            data = tomllib.loads(raw)
        except tomllib.TOMLDecodeError as exc:
            raise DataError(f"{path}: invalid TOML ({exc})") from None
    entries = data.get("rule", data.get("rules")) if isinstance(data, dict) else data
    if not isinstance(entries, list) or not entries:
        raise DataError(f"{path}: no rules found (write them as [[rule]] tables, or a `rules:` list in YAML)")
    return [_rule(entry, i, path) for i, entry in enumerate(entries, 1)]


def _rule(entry: object, number: int, path: Path) -> Rule:
    where = f"{path}: rule {number}"
    if not isinstance(entry, dict):
        raise DataError(f"{where}: a rule is a table of name, phrase or regex, action, label")
    name = str(entry.get("name", f"rule {number}"))
    where = f"{path}: rule {number} ({name})"
    phrase, regex = entry.get("phrase"), entry.get("regex")
    if (phrase is None) == (regex is None):
        raise DataError(f"{where}: give exactly one of `phrase` and `regex`")
    try:
        pattern = re.compile(re.escape(phrase) if phrase is not None else regex, re.IGNORECASE if phrase is not None else 0)
    except (re.error, TypeError) as exc:
        raise DataError(f"{where}: invalid regex ({exc})") from None
    action = entry.get("action", "drop")
    if action not in ACTIONS:
        raise DataError(f"{where}: action must be drop or keep, not {action!r}")
    label = "body" if action == "keep" else entry.get("label", "debris")
    if action == "drop" and label not in DROP_LABELS:
        raise DataError(f"{where}: a dropped paragraph's label is appeal or debris, not {label!r}")
    lang = entry.get("lang")
    return Rule(name, pattern, action, label, str(lang) if lang is not None else None)


def first_match(rules: Sequence[Rule], text: str, lang: str | None) -> Rule | None:
    return next((rule for rule in rules if rule.matches(text, lang)), None)
