"""Sigma value and condition semantics, one small rule per case, through pySigma and our compiler."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.detect.helpers import engine_for, matches, rule_text, web

CASES: list[tuple[str, str, dict[str, Any], bool]] = [
    # name, detection, event, expected
    ("exact is case-insensitive", "sel:\n  f: 'Hello'\ncondition: sel", web(f="hELLO"), True),
    ("exact is whole value", "sel:\n  f: 'Hello'\ncondition: sel", web(f="Hello world"), False),
    ("star wildcard", "sel:\n  f: 'a*c'\ncondition: sel", web(f="abbbC"), True),
    ("star matches empty", "sel:\n  f: 'a*c'\ncondition: sel", web(f="ac"), True),
    ("qmark is one char", "sel:\n  f: 'a?c'\ncondition: sel", web(f="abc"), True),
    ("qmark not zero chars", "sel:\n  f: 'a?c'\ncondition: sel", web(f="ac"), False),
    ("escaped star is literal", "sel:\n  f: 'a\\*c'\ncondition: sel", web(f="a*c"), True),
    ("escaped star no wildcard", "sel:\n  f: 'a\\*c'\ncondition: sel", web(f="abc"), False),
    ("escaped qmark is literal", "sel:\n  f: 'a\\?c'\ncondition: sel", web(f="abc"), False),
    ("contains", "sel:\n  f|contains: 'Mid'\ncondition: sel", web(f="xxmidyy"), True),
    ("startswith", "sel:\n  f|startswith: 'ab'\ncondition: sel", web(f="ABC"), True),
    ("startswith negative", "sel:\n  f|startswith: 'ab'\ncondition: sel", web(f="cab"), False),
    ("endswith", "sel:\n  f|endswith: '.EXE'\ncondition: sel", web(f="c:\\x.exe"), True),
    ("list is OR", "sel:\n  f:\n    - a\n    - b\ncondition: sel", web(f="b"), True),
    ("contains|all", "sel:\n  f|contains|all:\n    - a\n    - b\ncondition: sel", web(f="xbxa"), True),
    (
        "contains|all needs all",
        "sel:\n  f|contains|all:\n    - a\n    - b\ncondition: sel",
        web(f="xa"),
        False,
    ),
    ("map is AND", "sel:\n  f: a\n  g: b\ncondition: sel", web(f="a", g="c"), False),
    ("list of maps is OR", "sel:\n  - f: a\n  - g: b\ncondition: sel", web(f="x", g="b"), True),
    ("number equals int", "sel:\n  n: 4624\ncondition: sel", web(n=4624), True),
    ("number equals text", "sel:\n  n: 4624\ncondition: sel", web(n="4624"), True),
    ("bool true matches 'true'", "sel:\n  b: true\ncondition: sel", web(b="true"), True),
    ("bool true matches JSON true", "sel:\n  b: true\ncondition: sel", web(b=True), True),
    ("null matches absent", "sel:\n  f: null\ncondition: sel", web(g="x"), True),
    ("null not empty", "sel:\n  f: null\ncondition: sel", web(f=""), False),
    ("empty matches empty", "sel:\n  f: ''\ncondition: sel", web(f=""), True),
    ("exists true", "sel:\n  f|exists: true\ncondition: sel", web(f=""), True),
    ("exists false", "sel:\n  f|exists: false\ncondition: sel", web(f="x"), False),
    ("re unanchored, case-sensitive", "sel:\n  f|re: 'b+c'\ncondition: sel", web(f="aBBc"), False),
    ("re search", "sel:\n  f|re: 'b+c'\ncondition: sel", web(f="abbcd"), True),
    ("re i flag", "sel:\n  f|re|i: 'b+c'\ncondition: sel", web(f="aBBc"), True),
    ("re m flag", "sel:\n  f|re|m: '^two$'\ncondition: sel", web(f="one\ntwo\nthree"), True),
    ("re without m", "sel:\n  f|re: '^two$'\ncondition: sel", web(f="one\ntwo\nthree"), False),
    ("re s flag", "sel:\n  f|re|s: 'one.two'\ncondition: sel", web(f="one\ntwo"), True),
    ("re without s", "sel:\n  f|re: 'one.two'\ncondition: sel", web(f="one\ntwo"), False),
    ("cidr v4", "sel:\n  ip|cidr: 10.0.0.0/8\ncondition: sel", web(ip="10.200.3.4"), True),
    ("cidr v4 outside", "sel:\n  ip|cidr: 10.0.0.0/8\ncondition: sel", web(ip="11.0.0.1"), False),
    ("cidr v6", "sel:\n  ip|cidr: 'fe80::/10'\ncondition: sel", web(ip="FE80::1"), True),
    ("cidr not an ip", "sel:\n  ip|cidr: 10.0.0.0/8\ncondition: sel", web(ip="10.0.0.1:80x"), False),
    ("base64", "sel:\n  f|base64: 'evil'\ncondition: sel", web(f="ZXZpbA=="), True),
    (
        "base64offset|contains",
        "sel:\n  f|base64offset|contains: 'evil'\ncondition: sel",
        web(f="xxYWV2aWxxx"),
        True,
    ),
    (
        "wide|base64offset",
        "sel:\n  f|wide|base64offset|contains: 'ping'\ncondition: sel",
        web(f="powershell -enc cABpAG4AZwA="),
        True,
    ),
    (
        "utf16|base64offset",
        "sel:\n  f|utf16|base64offset|contains: 'ab'\ncondition: sel",
        web(f="x//5hAGIA"),
        True,
    ),
    ("utf16be|base64", "sel:\n  f|utf16be|base64: 'ab'\ncondition: sel", web(f="AGEAYg=="), True),
    ("neq", "sel:\n  f|neq: x\ncondition: sel", web(f="y"), True),
    ("neq equal", "sel:\n  f|neq: x\ncondition: sel", web(f="X"), False),
    ("windash", "sel:\n  f|windash|contains: ' -enc '\ncondition: sel", web(f="ps /enc x"), True),
    (
        "windash en dash",
        "sel:\n  f|windash|contains: ' -enc '\ncondition: sel",
        web(f="ps \u2013enc x"),
        True,
    ),
    ("gt", "sel:\n  n|gt: 10\ncondition: sel", web(n=11), True),
    ("gt equal", "sel:\n  n|gt: 10\ncondition: sel", web(n="10"), False),
    ("gte", "sel:\n  n|gte: 10\ncondition: sel", web(n="10"), True),
    ("lt", "sel:\n  n|lt: 10\ncondition: sel", web(n=9.5), True),
    ("lte not a number", "sel:\n  n|lte: 10\ncondition: sel", web(n="abc"), False),
    ("fieldref equal", "sel:\n  f|fieldref: g\ncondition: sel", web(f="Same", g="same"), True),
    ("fieldref differ", "sel:\n  f|fieldref: g\ncondition: sel", web(f="a", g="b"), False),
    ("fieldref absent", "sel:\n  f|fieldref: g\ncondition: sel", web(f="a"), False),
    ("fieldref|contains", "sel:\n  f|fieldref|contains: g\ncondition: sel", web(f="xxabxx", g="ab"), True),
    ("fieldref|startswith", "sel:\n  f|fieldref|startswith: g\ncondition: sel", web(f="abxx", g="ab"), True),
    ("fieldref|endswith", "sel:\n  f|fieldref|endswith: g\ncondition: sel", web(f="xxab", g="ab"), True),
    ("cased", "sel:\n  f|cased: 'Abc'\ncondition: sel", web(f="abc"), False),
    ("cased exact", "sel:\n  f|cased: 'Abc'\ncondition: sel", web(f="Abc"), True),
    ("cased contains", "sel:\n  f|cased|contains: 'Bc'\ncondition: sel", web(f="aBcd"), True),
    ("keyword contains", "keywords:\n  - 'evil'\ncondition: keywords", web(f="an EVIL thing"), True),
    ("keyword not in envelope", "keywords:\n  - 'webserver'\ncondition: keywords", web(f="x"), False),
    ("keyword list", "keywords:\n  - foo\n  - bar\ncondition: keywords", web(f="a bar"), True),
    (
        "keyword and field",
        "keywords:\n  - bad\nsel:\n  f: x\ncondition: keywords and sel",
        web(f="x", g="bad"),
        True,
    ),
    ("not", "sel:\n  f: a\ncondition: not sel", web(f="b"), True),
    ("not absent field", "sel:\n  f: a\ncondition: not sel", web(g="b"), True),
    ("1 of pattern", "sel1:\n  f: a\nsel2:\n  f: b\ncondition: 1 of sel*", web(f="b"), True),
    ("all of pattern", "sel1:\n  f: a\nsel2:\n  g: b\ncondition: all of sel*", web(f="a", g="c"), False),
    ("all of them", "sel1:\n  f: a\nsel2:\n  g: b\ncondition: all of them", web(f="a", g="b"), True),
    ("1 of them", "sel1:\n  f: a\nsel2:\n  g: b\ncondition: 1 of them", web(f="z", g="b"), True),
    ("precedence and over or", "a:\n  f: 1\nb:\n  g: 1\nc:\n  h: 1\ncondition: a or b and c", web(f=1), True),
    ("parentheses", "a:\n  f: 1\nb:\n  g: 1\nc:\n  h: 1\ncondition: (a or b) and c", web(f=1), False),
    (
        "and not 1 of filter",
        "sel:\n  f: a\nfilter_x:\n  g: b\nfilter_y:\n  h: c\ncondition: sel and not 1 of filter_*",
        web(f="a", h="c"),
        False,
    ),
    ("list field any element", "sel:\n  tags: b\ncondition: sel", web(tags=["a", "B"]), True),
    ("list field contains", "sel:\n  tags|contains: xb\ncondition: sel", web(tags=["a", "xbx"]), True),
    (
        "nested JSON dotted name",
        "sel:\n  http.method: POST\ncondition: sel",
        web(http={"method": "post"}),
        True,
    ),
    (
        "dotted name in flat event",
        "sel:\n  http.method: POST\ncondition: sel",
        web(**{"http.method": "POST"}),
        True,
    ),
    ("unicode case-insensitive", "sel:\n  f|contains: 'ÄRGER'\ncondition: sel", web(f="großer ärger"), True),
]


@pytest.mark.parametrize(("detection", "event", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_semantics(tmp_path: Path, detection: str, event: dict[str, Any], expected: bool) -> None:
    engine = engine_for(tmp_path, rule_text(detection))
    assert engine.refused == []
    assert matches(engine, event) is expected


def test_expand_placeholder_without_value_is_refused(tmp_path: Path) -> None:
    engine = engine_for(tmp_path, rule_text("sel:\n  f|expand: '%admins%'\ncondition: sel"))
    assert [r.reason for r in engine.refused] == ["placeholder %admins% has no value (define it in a pipeline)"]


def test_expand_placeholder_with_value_from_a_pipeline(tmp_path: Path) -> None:
    from mamori.detect import routing

    pipelines = tmp_path / "pipelines"
    pipelines.mkdir()
    for path in routing.PIPELINES.glob("*.yml"):
        (pipelines / path.name).write_text(path.read_text())
    (pipelines / "common-placeholders.yml").write_text(
        "name: placeholders\npriority: 10\nvars:\n  admins: [root, Administrator]\n"
        "transformations:\n- type: value_placeholders\n"
    )
    rules = tmp_path / "r"
    rules.mkdir()
    (rules / "r.yml").write_text(rule_text("sel:\n  user|expand: '%admins%'\ncondition: sel"))
    from mamori.detect.engine import Engine

    engine = Engine([rules], pipelines_dir=pipelines)
    assert engine.refused == [], engine.refused
    assert matches(engine, web(user="administrator"))
    assert not matches(engine, web(user="guest"))


def test_timestamp_part_is_refused(tmp_path: Path) -> None:
    engine = engine_for(tmp_path, rule_text("sel:\n  f|minute: 5\ncondition: sel"))
    assert "timestamp-part" in engine.refused[0].reason


def test_unmapped_logsource_is_refused(tmp_path: Path) -> None:
    engine = engine_for(tmp_path, rule_text("sel:\n  f: a\ncondition: sel", logsource="product: nowhere"))
    assert engine.rules.plans == []
    assert "is not mapped by any pipeline" in engine.refused[0].reason


def test_routing_keeps_rules_to_their_log_source(tmp_path: Path) -> None:
    sysmon = rule_text(
        "sel:\n  Image|endswith: '\\cmd.exe'\ncondition: sel",
        logsource="category: process_creation\n    product: windows",
    )
    engine = engine_for(tmp_path, sysmon)
    base = {"Image": "C:\\Windows\\System32\\cmd.exe"}
    assert matches(engine, {**base, "Channel": "Microsoft-Windows-Sysmon/Operational", "EventID": 1})
    assert not matches(engine, {**base, "Channel": "Microsoft-Windows-Sysmon/Operational", "EventID": 7})
    assert not matches(engine, {**base, "Channel": "Security", "EventID": 4624})
    # the Security 4688 variant maps Image to NewProcessName
    assert matches(engine, {"Channel": "Security", "EventID": 4688, "NewProcessName": base["Image"]})
    assert not matches(engine, {**base, "source": "webserver"})


def test_security_4688_variant_dropped_when_a_field_is_missing_there(tmp_path: Path) -> None:
    text = rule_text(
        "sel:\n  OriginalFileName: 'cmd.exe'\ncondition: sel",
        logsource="category: process_creation\n    product: windows",
    )
    engine = engine_for(tmp_path, text)
    assert {p.variant for p in engine.rules.plans} == {"windows-sysmon"}


def test_sigmahq_webserver_query_field_also_reads_c_uri(tmp_path: Path) -> None:
    engine = engine_for(tmp_path, rule_text("sel:\n  cs-uri-query|contains: '/etc/passwd'\ncondition: sel"))
    assert matches(engine, web(**{"c-uri": "/a?f=../../etc/passwd"}))
    assert matches(engine, web(**{"cs-uri-query": "f=/etc/passwd"}))


def test_regex_refused_by_re2_is_reported(tmp_path: Path) -> None:
    engine = engine_for(tmp_path, rule_text("sel:\n  f|re: '(a)\\1'\ncondition: sel"))
    assert engine.rules.plans == []
    assert "invalid" in engine.refused[0].reason  # pySigma's SafePolicy (RE2) refuses it at load


def test_one_bad_rule_does_not_stop_the_pack(tmp_path: Path) -> None:
    good = rule_text("sel:\n  f: a\ncondition: sel")
    engine = engine_for(tmp_path, good, "title: broken\ndetection: [not, a, map]\n", "::: not yaml :::\n  - [")
    assert len(engine.rules.plans) == 1
    assert len({r.path for r in engine.refused}) == 2
    assert matches(engine, web(f="a"))


def test_counters_and_hot_reload(tmp_path: Path) -> None:
    engine = engine_for(tmp_path, rule_text("sel:\n  f: a\ncondition: sel"))
    folder = engine.rule_dirs[0]
    engine.match([web(f="a"), web(f="a"), web(f="b")])
    assert sum(engine.hits.values()) == 2
    (folder / "rule9.yml").write_text(rule_text("sel:\n  f: b\ncondition: sel"))
    engine.reload()
    assert len(engine.match([web(f="b")])) == 1


def test_suricata_rules_use_eve_names(tmp_path: Path) -> None:
    text = rule_text(
        "sel:\n  dst_port: 445\n  signature|contains: 'EternalBlue'\ncondition: sel",
        logsource="product: suricata",
    )
    engine = engine_for(tmp_path, text)
    eve = {
        "source": "suricata",
        "dest_port": 445,
        "alert": {"signature": "ET EXPLOIT Possible ETERNALBLUE MS17-010"},
    }
    assert matches(engine, eve)
    assert not matches(engine, {**eve, "source": "webserver"})


def test_regexes_of_one_field_in_an_or_run_as_one_alternation_with_their_own_flags(tmp_path: Path) -> None:
    engine = engine_for(
        tmp_path,
        rule_text(
            r"""
            one:
                cs-uri-query|re: 'id=\d+ union'
            two:
                cs-uri-query|re|i: 'SLEEP\('
            three:
                cs-uri-query|re: '^/admin$'
            condition: 1 of them
            """
        ),
    )
    assert engine.refused == []
    assert matches(engine, web(**{"cs-uri-query": "?id=1 union select"}))
    assert matches(engine, web(**{"cs-uri-query": "x=sleep(5)"}))  # the `i` flag stays with its own regex
    assert not matches(engine, web(**{"cs-uri-query": "?ID=1 UNION"}))  # … and does not spread to the others
    assert matches(engine, web(**{"cs-uri-query": "/admin"}))  # anchors stay with their own alternative
    assert not matches(engine, web(**{"cs-uri-query": "/admin/x"}))
    assert matches(engine, web(**{"cs-uri-query": ["a", "x=SLEEP(1)"]}))  # any element of a list value


def test_a_regex_refused_alone_is_never_merged_into_a_valid_alternation() -> None:
    from mamori.detect.codegen import alternation

    assert alternation([("a)|(?:b", ""), ("c", "")]) is None  # "(?:a)|(?:b)|(?:c)" would be valid
    assert alternation([("a", "i"), ("b", "")]) == "(?i:a)|(?:b)"


def _both_paths(engine: Any, events: list[dict[str, Any]]) -> list[bool]:
    """Verdicts one by one and as one batch (the column path from 8 events of a route): they must agree."""
    alone = [matches(engine, e) for e in events]
    together = [bool(plans) for plans in engine.evaluate_many(events * 4)][: len(events)]
    assert alone == together
    return alone


def test_a_rule_made_of_exclusions_triggers_on_what_it_excludes(tmp_path: Path) -> None:
    engine = engine_for(
        tmp_path,
        rule_text(
            r"""
            known:
                c-uri|endswith:
                    - '.html'
                    - '.css'
            start:
                c-uri|startswith: '/static/'
            condition: not known and not start
            """
        ),
    )
    [plan] = engine.rules.plans
    assert plan.triggers is not None and {kind for _, kind, _ in plan.triggers} == {"not"}
    events = [
        web(**{"c-uri": "/index.HTML"}),  # excluded (case-insensitive)
        web(**{"c-uri": "/shell.php"}),
        web(**{"c-uri": "/static/x.php"}),  # excluded by the other NOT: the predicate decides
        web(),  # absent: every NOT of it holds
        web(**{"c-uri": ["/a.css", "/b.php"]}),  # a list: the trigger fires, the predicate decides
    ]
    assert _both_paths(engine, events) == [False, True, False, True, False]
    assert _both_paths(engine, [web(**{"cs-method": "GET"})] * 3) == [True] * 3  # no event holds the field


def test_a_positive_trigger_is_preferred_to_an_exclusion(tmp_path: Path) -> None:
    engine = engine_for(
        tmp_path,
        rule_text(
            r"""
            selection:
                cs-method: 'PUT'
            filter:
                c-uri|endswith: '.html'
            condition: selection and not filter
            """
        ),
    )
    [plan] = engine.rules.plans
    assert plan.triggers == frozenset({("cs-method", "eq", "put")})


def test_a_field_reference_triggers_where_the_two_fields_are_equal(tmp_path: Path) -> None:
    engine = engine_for(
        tmp_path,
        rule_text(
            """
            selection:
                c-uri|fieldref: cs-referer
            condition: selection
            """
        ),
    )
    [plan] = engine.rules.plans
    assert plan.triggers == frozenset({("c-uri", "ref", "cs-referer")})
    events = [
        web(**{"c-uri": "/A", "cs-referer": "/a"}),  # case-insensitive, as Sigma
        web(**{"c-uri": "/a", "cs-referer": "/b"}),
        web(**{"c-uri": "/a"}),
        web(),
    ]
    assert _both_paths(engine, events) == [True, False, False, False]
