"""Public-update hygiene: find what does not belong on a public status page
(docs/hygiene.md).

Pure and stdlib-only. The check reports spans and never rewrites the text: the author fixes
it or publishes anyway. Precision matters as much as recall, so neutral facts (HTTP status
classes, regions, times, versions, a provider named without blame, the company's own domains)
are deliberately left alone.
"""

from __future__ import annotations

import fnmatch
import ipaddress
import json
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from bot.errors import FlareError
from bot.text import hygiene_patterns as pat
from bot.text.scrub import slack_spans

STATUSES: tuple[str, ...] = ("investigating", "identified", "monitoring", "resolved")
KINDS: tuple[str, ...] = ("ip", "hostname", "trace", "speculation", "blame", "premature")

Span = tuple[int, int]


@dataclass(frozen=True)
class Finding:
    kind: str  # one of KINDS
    start: int  # character offsets into the checked text
    end: int
    text: str  # text[start:end]
    advice: str

    def as_dict(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "start": self.start,
            "end": self.end,
            "text": self.text,
            "advice": self.advice,
        }


class HygieneBlocked(FlareError):
    """Public text has findings; the author fixes it or publishes anyway (`force`)."""

    def __init__(self, findings: Sequence[Finding], text: str) -> None:
        super().__init__(f"{len(findings)} thing(s) in this update may not belong on a public page")
        self.findings = list(findings)
        self.text = text
        # What "publish anyway" must keep to (a correction's target update's id).
        self.context: dict[str, Any] = {}


def check_public_text(
    text: str,
    status: str = "investigating",
    *,
    deny: Sequence[str] = (),
    own_domains: Sequence[str] = (),
) -> list[Finding]:
    """Return the hygiene findings in ``text``, sorted by start.

    Overlapping findings of the same kind are merged into one. ``deny`` holds extra glob
    patterns of internal names (``flare.toml`` ``[hygiene] deny``); ``own_domains`` the
    company's public domains, which (with their subdomains, URLs and addresses) are never
    findings. Raises ``ValueError`` for an unknown status.
    """
    if status not in STATUSES:
        raise ValueError(f"unknown status {status!r}")
    spans: dict[str, list[Span]] = {
        "ip": list(_ip_spans(text)),
        "hostname": [
            *(_host_token(text, s, e) for s, e in _hostname_spans(text, deny)),
            *slack_spans(text),  # mentions, channels, IDs and links into Slack are internal
        ],
        "trace": list(_regex_spans(text, pat.TRACE_PATTERNS)),
        "speculation": list(_regex_spans(text, pat.SPECULATION_PATTERNS)),
        "blame": [*_provider_spans(text), *_regex_spans(text, pat.BLAME_PATTERNS)],
        "premature": [] if status == "resolved" else list(_premature_spans(text)),
    }
    protected = list(_own_domain_spans(text, own_domains))
    findings: list[Finding] = []
    for kind, kind_spans in spans.items():
        advice = pat.ADVICE[kind].format(status=status)
        for start, end in _merge(_trim(text, s, e) for s, e in kind_spans):
            if start >= end or any(ps <= start and end <= pe for ps, pe in protected):
                continue
            findings.append(Finding(kind, start, end, text[start:end], advice))
    findings.sort(key=lambda f: (f.start, f.end, KINDS.index(f.kind)))
    return findings


def lint_public(
    stdin_text: str,
    *,
    status: str = "investigating",
    jsonl: bool = False,
    deny: Sequence[str] = (),
    own_domains: Sequence[str] = (),
) -> tuple[str, int]:
    """Implement ``flare lint-public`` (README "The CLI"): return (stdout text, exit code).

    Plain mode prints one JSON line per finding. With ``jsonl`` each input line is
    ``{"text": ..., "status": ...}`` and each gets one output line, ``{"findings": [...]}`` or
    ``{"error": "..."}``. Exit 2 on malformed input, else 1 if anything was found, else 0.
    """
    if status not in STATUSES:
        return f"error: unknown --status {status!r}; expected one of {', '.join(STATUSES)}\n", 2
    if not jsonl:
        found = check_public_text(stdin_text, status, deny=deny, own_domains=own_domains)
        return "".join(json.dumps(f.as_dict()) + "\n" for f in found), 1 if found else 0
    out: list[str] = []
    malformed = any_found = False
    for line in stdin_text.splitlines():
        if not line.strip():
            continue
        parsed = _parse_jsonl_line(line, status)
        if isinstance(parsed, str):
            malformed = True
            out.append(json.dumps({"error": parsed}))
            continue
        found = check_public_text(parsed[0], parsed[1], deny=deny, own_domains=own_domains)
        any_found = any_found or bool(found)
        out.append(json.dumps({"findings": [f.as_dict() for f in found]}))
    code = 2 if malformed else 1 if any_found else 0
    return "".join(line + "\n" for line in out), code


def _parse_jsonl_line(line: str, default_status: str) -> tuple[str, str] | str:
    """Return (text, status), or an error message for a malformed line."""
    try:
        obj = json.loads(line)
    except (ValueError, RecursionError) as exc:
        return f"invalid JSON: {exc}"
    if not isinstance(obj, dict):
        return 'expected a JSON object with a "text" string'
    text = obj.get("text")
    if not isinstance(text, str):
        return 'missing or non-string "text"'
    status = obj.get("status")
    if status is None:
        status = default_status
    if status not in STATUSES:
        return f"unknown status {status!r}; expected one of {', '.join(STATUSES)}"
    return text, str(status)


# --- spans per kind -------------------------------------------------------------------------


def _regex_spans(text: str, patterns: Iterable[re.Pattern[str]]) -> Iterator[Span]:
    for pattern in patterns:
        for m in pattern.finditer(text):
            if m.end() > m.start():
                yield m.span()


def _ip_spans(text: str) -> Iterator[Span]:
    for m in pat.IPV4.finditer(text):
        if not pat.VERSION_BEFORE.search(text[max(0, m.start() - 12) : m.start()]):
            yield m.span()
    for m in pat.IPV6_CANDIDATE.finditer(text):
        candidate = m.group().split("/")[0]
        # Times ("14:05:33") and prose have few colons and no "::".
        if "::" not in candidate and candidate.count(":") != 7:
            continue
        if not any(ch.isdigit() for ch in candidate):
            continue
        try:
            ipaddress.IPv6Address(candidate)
        except ValueError:
            continue
        yield m.span()


def _hostname_spans(text: str, deny: Sequence[str]) -> Iterator[Span]:
    yield from _regex_spans(text, (pat.INTERNAL_FQDN, pat.INTERNAL_LABEL_FQDN, pat.INFRA_WORDS))
    for m in pat.DASHED_TOKEN.finditer(text):
        if _hostname_like(m.group()) or _names_a_component(text, m.end(), m.group()):
            yield m.span()
    deny_res = [
        re.compile(fnmatch.translate(p.strip().lower()), re.IGNORECASE) for p in deny if p.strip()
    ]
    if deny_res:
        for m in re.finditer(r"[A-Za-z0-9][\w.-]*", text):
            token = m.group().rstrip("._-")
            names = {token, token.split(".")[0]}
            if any(r.fullmatch(name) for r in deny_res for name in names):
                yield m.start(), m.start() + len(token)


def _hostname_like(token: str) -> bool:
    """Classify a lower-case dashed token such as ``db-prod-3`` or ``api-7d9f8c6b5-x2kqz``."""
    if pat.REGION.fullmatch(token):
        return False
    segs = re.split(r"[-_]", token)
    last = segs[-1]
    if (  # Kubernetes pod: <name>-<replicaset hash>-<5 chars>
        len(segs) >= 3
        and len(last) == 5
        and 6 <= len(segs[-2]) <= 10
        and any(c.isdigit() for c in last + segs[-2])
    ):
        return True
    if segs[0] in ("ip", "ec2") and len(segs) >= 5 and all(s.isdigit() for s in segs[1:5]):
        return True
    if token not in pat.ENV_STOP and any(s in pat.ENV_SEGMENTS for s in segs):
        return True
    if last.isdigit() and (
        (last.startswith("0") and len(last) >= 2)
        or any(s in pat.INFRA_SEGMENTS for s in segs[:-1])
        or len(segs) >= 3
    ):
        return True
    if (  # ci-runner-pool-b, but not dns-over-https
        len(segs) >= 3
        and any(s in pat.INFRA_SEGMENTS and s not in pat.WEAK_INFRA_SEGMENTS for s in segs)
        and not any(s in pat.PROSE_PARTICLES for s in segs)
    ):
        return True
    return last in pat.SERVICE_SUFFIXES and token not in pat.SERVICE_STOP


def _names_a_component(text: str, end: int, token: str) -> bool:
    """A dashed name right before "service", "pods", "deployment"…: ``ledger-writer service``."""
    if not pat.INFRA_NOUN_AFTER.match(text, end):
        return False
    segs = re.split(r"[-_]", token)
    return not (
        segs[0] in pat.PROSE_PREFIXES
        or any(s in pat.PROSE_PARTICLES for s in segs)
        or segs[-1] in pat.PROSE_COMPOUND_LAST
        or segs[-1].endswith(pat.PROSE_ADJECTIVE_ENDINGS)
    )


def _host_token(text: str, start: int, end: int) -> Span:
    """Widen a hostname match to the whole dotted name it is part of."""
    while start > 0 and (text[start - 1].isalnum() or text[start - 1] in "-_."):
        start -= 1
    while end < len(text) and (
        text[end].isalnum()
        or text[end] in "-_"
        or (text[end] == "." and end + 1 < len(text) and text[end + 1].isalnum())
    ):
        end += 1
    while start < end and text[start] in "._-":
        start += 1
    return start, end


def _provider_spans(text: str) -> Iterator[Span]:
    """Spans of "our provider", except while working with them ("with our provider")."""
    for m in pat.PROVIDER_MENTION.finditer(text):
        if not pat.COLLABORATION_BEFORE.search(text[max(0, m.start() - 40) : m.start()]):
            yield m.span()


def _premature_spans(text: str) -> Iterator[Span]:
    for m in pat.PREMATURE.finditer(text):
        before = text[max(0, m.start() - 60) : m.start()]
        if pat.PREMATURE_NOT_BEFORE.search(before):
            continue
        if pat.PREMATURE_NOT_AFTER.match(text[m.end() : m.end() + 30]):
            continue
        yield m.span()


def _own_domain_spans(text: str, own_domains: Sequence[str]) -> Iterator[Span]:
    """URLs, e-mail addresses and host names under the company's own public domains."""
    for domain in own_domains:
        domain = domain.strip().strip(".").lower()
        if not domain:
            continue
        own = re.compile(
            r"(?<![\w.-])(?:https?://)?(?:[\w.+-]+@)?(?:[a-z0-9-]+\.)*"
            + re.escape(domain)
            + r"(?![\w-]|\.[a-z0-9])(?::\d+)?(?:/[^\s\"'<>]*)?",
            re.IGNORECASE,
        )
        yield from (m.span() for m in own.finditer(text))


# --- span helpers ---------------------------------------------------------------------------


def _trim(text: str, start: int, end: int) -> Span:
    while end > start and text[end - 1].isspace():
        end -= 1
    while start < end and text[start].isspace():
        start += 1
    return start, end


def _merge(spans: Iterable[Span]) -> list[Span]:
    merged: list[Span] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged
