"""translations/en.json against the rules Home Assistant's validator (hassfest) applies.

Custom integrations read this file at run time, and hassfest (``script.hassfest
--integration-path``, not on PyPI) refuses an integration whose translations break these
rules: keys (entity states, effects, select options, event types, ...) must be lowercase
``[a-z0-9-_]`` without leading, trailing or doubled separators; strings hold no HTML
(``cv.string_with_no_html``, what hassfest calls) and no placeholder in single quotes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from homeassistant.helpers import config_validation as cv

TRANSLATIONS = Path(__file__).parent.parent / "custom_components/daybreak/translations/en.json"
#: A translation key as hassfest's translations plugin checks it.
KEY = re.compile(r"^(?!.+[_-]{2})(?![_-])[a-z0-9-_]+(?<![_-])$")
QUOTED_PLACEHOLDER = re.compile(r"'{\w+}'")


def _walk(node: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    """Every (path, value) below ``node``, dictionaries entered."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield (*path, key), value
            yield from _walk(value, (*path, key))


ENTRIES = list(_walk(json.loads(TRANSLATIONS.read_text())))
STRINGS = [(path, value) for path, value in ENTRIES if isinstance(value, str)]


def test_every_key_is_a_valid_translation_key() -> None:
    bad = [".".join(path) for path, _ in ENTRIES if not KEY.match(path[-1])]
    assert bad == []


@pytest.mark.parametrize(("path", "value"), STRINGS, ids=[".".join(p) for p, _ in STRINGS])
def test_strings_have_no_html_and_no_quoted_placeholders(path: tuple[str, ...], value: str) -> None:
    assert cv.string_with_no_html(value) == value
    assert not QUOTED_PLACEHOLDER.search(value)


@pytest.mark.parametrize(
    "value",
    ['named "Alarm <name>"', "<b>bold</b>", "a <br> break"],
)
def test_the_html_rule_catches_what_hassfest_refused(value: str) -> None:
    """The check above is the one that refused an alarm name's description once."""
    with pytest.raises(Exception, match="HTML"):
        cv.string_with_no_html(value)
