"""docs/records.md shows a postmortem the code generated from tests/records/sample.py; this
keeps it current. After changing the format: FLARE_WRITE_DOCS=1 pytest tests/records/test_docs.py
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from bot import records
from bot.runtime import Runtime
from tests.conftest import Clock
from tests.records.sample import postmortem, seed_incident

DOC = Path(__file__).resolve().parents[2] / "docs" / "records.md"
BLOCKS = {
    "example-md": ("```markdown\n", "```\n"),
    "example-json": ("```json\n", "```\n"),
}


def _between(text: str, name: str) -> tuple[int, int]:
    start = text.index(f"<!-- {name}:start -->\n") + len(f"<!-- {name}:start -->\n")
    return start, text.index(f"<!-- {name}:end -->", start)


def test_docs_example_postmortem_is_what_the_code_writes(runtime: Runtime, clock: Clock) -> None:
    document = postmortem(runtime, seed_incident(runtime), link=False)
    generated = {
        "example-md": records.render_markdown(document),
        "example-json": json.dumps(records.as_json(document), indent=2, ensure_ascii=False) + "\n",
    }
    text = DOC.read_text(encoding="utf-8")
    for name, (opening, closing) in BLOCKS.items():
        start, end = _between(text, name)
        wanted = opening + generated[name] + closing
        if os.environ.get("FLARE_WRITE_DOCS") == "1":
            text = text[:start] + wanted + text[end:]
        else:
            assert text[start:end] == wanted, f"{name} in docs/records.md is stale"
    if os.environ.get("FLARE_WRITE_DOCS") == "1":
        DOC.write_text(text, encoding="utf-8")


def test_docs_json_schema_names_every_field(runtime: Runtime, clock: Clock) -> None:
    data = records.as_json(postmortem(runtime, seed_incident(runtime)))
    schema = DOC.read_text(encoding="utf-8").split("## JSON schema", 1)[1]

    def keys(value: object, prefix: str = "") -> set[str]:
        found: set[str] = set()
        if isinstance(value, dict):
            for key, inner in value.items():
                found.add(f"{prefix}{key}")
                found |= keys(inner, f"{prefix}{key}.")
        elif isinstance(value, list) and value:
            found |= keys(value[0], f"{prefix}[].")
        return found

    named = set(re.findall(r"`([a-z_\[\]\.]+)`", schema))
    missing = sorted(
        k for k in keys(data) if not k.startswith("impact.[].minutes.") and k not in named
    )
    assert missing == []
