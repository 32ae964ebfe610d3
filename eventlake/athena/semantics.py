"""Athena (Trino) semantics on DuckDB: where the two engines would answer the same SQL differently, the
statement is rewritten into DuckDB SQL that gives Trino's answer, or refused with one line naming the
construct and what Athena does. sqlglot's dialect translation maps names; it does not map meaning.

What differs, and what is done (each case is in tests/eventlake/athena/test_athena_semantics.py):

- Types decide integer and DECIMAL division, ``avg`` of a DECIMAL and comparisons, so every node is typed
  first: Trino's rules for literals (``1.5`` is DECIMAL(2,1), ``1e2`` DOUBLE), casts, arithmetic and
  aggregates; sqlglot's ``annotate_types`` (with the Glue table's columns) for the rest. An unknown type where
  the answer depends on it is a refusal, never a guess.
- ``date_diff`` counts whole units in Trino (DuckDB's ``date_diff`` counts boundaries): DuckDB ``date_sub``.
- Values of ``timestamp with time zone`` (``AT TIME ZONE``, ``with_timezone``, ``from_unixtime``, ``now()``)
  are DuckDB TIMESTAMPTZ instants whose Trino zone is carried beside the node: extraction, casts and
  ``to_iso8601`` use the wall time in that zone, comparisons the instant.
- Casts follow Trino: ``TIMESTAMP`` is timestamp(3), rounded; varchar to an integer accepts digits only; a
  DOUBLE to an integer rounds half away from zero.
- An array subscript past the end raises (``element_at`` gives NULL).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterable

import sqlglot
from sqlglot import exp
from sqlglot.dialects.athena import Athena
from sqlglot.optimizer.annotate_types import annotate_types
from sqlglot.optimizer.qualify import qualify
from sqlglot.tokens import TokenType

T = exp.DataType.Type
_INTS = {T.TINYINT: 3, T.SMALLINT: 5, T.INT: 10, T.BIGINT: 19}
_DOUBLES = {T.DOUBLE, T.FLOAT}
_TEXT = {T.VARCHAR, T.CHAR, T.TEXT, T.NCHAR, T.NVARCHAR}
_UNTYPED = {T.UNKNOWN, T.NULL}
_COMPARISONS = (exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE, exp.NullSafeEQ, exp.NullSafeNEQ)
_ARITHMETIC = (exp.Add, exp.Sub, exp.Mul, exp.Div, exp.Mod)
# Functions of a timestamp with time zone that read its wall time in its zone (Trino's semantics).
_LOCAL_PARTS = (
    exp.Hour,
    exp.Minute,
    exp.Second,
    exp.Day,
    exp.Month,
    exp.Year,
    exp.Quarter,
    exp.DayOfWeekIso,
    exp.DayOfYear,
    exp.WeekOfYear,
    exp.Date,
)
_MAX_DECIMAL = 38
UTC = "UTC"


class TranslationError(ValueError):
    """Athena SQL the local engine cannot answer as Athena would: the message names the construct and what
    Athena does."""


def refuse(construct: str, athena: str) -> TranslationError:
    return TranslationError(f"{construct}: {athena}; the local engine refuses rather than answer differently")


# --- typing ---------------------------------------------------------------------------------------------


def decimal_type(precision: int, scale: int) -> exp.DataType:
    return exp.DataType.build(f"DECIMAL({min(precision, _MAX_DECIMAL)}, {scale})")


def _unknown() -> exp.DataType:
    return exp.DataType.build("UNKNOWN")


def decimal_params(kind: exp.DataType) -> tuple[int, int] | None:
    """(precision, scale) of a DECIMAL with both given, of an integer type as Trino widens it, else None."""
    if kind.this in _INTS:
        return _INTS[kind.this], 0
    if kind.this is not T.DECIMAL:
        return None
    params = [p.this for p in kind.expressions]
    if not params:  # Trino's DECIMAL without parameters is decimal(38, 0)
        return _MAX_DECIMAL, 0
    values = [int(p.this) if isinstance(p, exp.Literal) else int(str(p)) for p in params]
    return values[0], values[1] if len(values) > 1 else 0


def type_of(node: exp.Expression) -> exp.DataType:
    """The Trino type recorded for ``node`` (through parentheses), or UNKNOWN."""
    while isinstance(node, exp.Paren):
        node = node.this
    kind = node.meta.get("trino_type")
    return kind if isinstance(kind, exp.DataType) else _unknown()


def _literal_type(node: exp.Literal) -> exp.DataType:
    if node.is_string:
        return exp.DataType.build("VARCHAR")
    text = node.this.lstrip("+-")
    if any(c in text for c in "eE"):
        return exp.DataType.build("DOUBLE")
    if "." in text:
        whole, _, fraction = text.partition(".")
        return decimal_type(max(1, len(whole) + len(fraction)), len(fraction))
    return exp.DataType.build("INT" if abs(int(text)) < 2**31 else "BIGINT")


def _numeric_result(op: exp.Expression, left: exp.DataType, right: exp.DataType) -> exp.DataType | None:
    """Trino's result type of ``left op right`` for numbers; None when either is not a known number."""
    if left.this in _DOUBLES or right.this in _DOUBLES:
        known = all(k.this in _DOUBLES or decimal_params(k) for k in (left, right))
        return exp.DataType.build("DOUBLE") if known else None
    if left.this in _INTS and right.this in _INTS:
        wide = max((left, right), key=lambda k: _INTS[k.this])
        return exp.DataType.build(wide.this.value)
    a, b = decimal_params(left), decimal_params(right)
    if a is None or b is None:
        return None
    (p1, s1), (p2, s2) = a, b
    if isinstance(op, (exp.Add, exp.Sub)):
        return decimal_type(1 + max(s1, s2) + max(p1 - s1, p2 - s2), max(s1, s2))
    if isinstance(op, exp.Mul):
        return decimal_type(p1 + p2, s1 + s2)
    if isinstance(op, exp.Div):
        return decimal_type(p1 + s2 + max(0, s2 - s1), max(s1, s2))
    return decimal_type(min(p2 - s2, p1 - s1) + max(s1, s2), max(s1, s2))  # Mod


def _own_type(node: exp.Expression, guessed: exp.DataType | None) -> exp.DataType:
    """Trino's type of ``node`` from its (already typed) children, else sqlglot's guess."""
    if isinstance(node, exp.Literal):
        return _literal_type(node)
    if isinstance(node, exp.Paren):
        return type_of(node.this)
    if isinstance(node, (exp.Cast, exp.TryCast)):
        return node.to
    if isinstance(node, (exp.JSONFormat, exp.JSONExtractScalar)):  # Trino: varchar
        return exp.DataType.build("VARCHAR")
    if isinstance(node, _ARITHMETIC):
        left, right = type_of(node.left), type_of(node.right)
        result = _numeric_result(node, left, right)
        if result is not None:
            return result
    if isinstance(node, exp.Neg):
        return type_of(node.this)
    if isinstance(node, (exp.Count, exp.CountIf, exp.ApproxDistinct)):
        return exp.DataType.build("BIGINT")
    if isinstance(node, exp.Sum):
        inner = type_of(node.this)
        if inner.this in _INTS:
            return exp.DataType.build("BIGINT")
        params = decimal_params(inner)
        if params:
            return decimal_type(_MAX_DECIMAL, params[1])
        return inner if inner.this in _DOUBLES else _unknown()
    if isinstance(node, exp.Avg):
        inner = type_of(node.this)
        if inner.this is T.DECIMAL:
            return inner
        return exp.DataType.build("DOUBLE") if inner.this in _INTS or inner.this in _DOUBLES else _unknown()
    if isinstance(node, (exp.Min, exp.Max, exp.AnyValue, exp.Round)):
        return type_of(node.this)
    if isinstance(node, exp.Window):
        return type_of(node.this)
    if guessed is None or guessed.this in _UNTYPED:
        return _unknown()
    # sqlglot types a decimal literal as DOUBLE: an expression it typed DOUBLE over a DECIMAL is unknown.
    if guessed.this in _DOUBLES and any(
        type_of(child).this is T.DECIMAL for child in node.iter_expressions()
    ):
        return _unknown()
    return guessed


_TIMESTAMP_LITERAL = re.compile(
    r"\d{4}-\d{1,2}-\d{1,2}( \d{1,2}:\d{1,2}(:\d{1,2}(\.(?P<fraction>\d{1,6}))?)?)?"
)


def typed_literals(sql: str) -> str:
    """``DECIMAL '1.50'`` as ``CAST('1.50' AS DECIMAL(3, 2))`` and ``TIMESTAMP '... 01.100'`` as a CAST to
    TIMESTAMP(3): sqlglot reads both spellings as a CAST to the bare type, which is decimal(38, 0) and
    timestamp(3) in Trino, while a literal's type is its own digits'."""
    tokens = Athena().tokenize(sql)
    out, last = [], 0
    for first, second in itertools.pairwise(tokens):
        if first.token_type is TokenType.TIMESTAMP and second.token_type is TokenType.STRING:
            text = second.text
            match = _TIMESTAMP_LITERAL.fullmatch(text)
            if match is None:
                raise refuse(
                    f"TIMESTAMP '{text}'",
                    "a literal with a zone is a timestamp with time zone in Athena: write TIMESTAMP "
                    "'yyyy-mm-dd hh:mm:ss[.fff]' AT TIME ZONE '<zone>', or a zoneless literal",
                )
            out.append(sql[last : first.start])
            out.append(f"CAST('{text}' AS TIMESTAMP({len(match.group('fraction') or '')}))")
            last = second.end + 1
        elif first.token_type is TokenType.DECIMAL and second.token_type is TokenType.STRING:
            text = second.text.strip()
            digits = text.lstrip("+-")
            whole, _, fraction = digits.partition(".")
            if not (whole or fraction).isdigit() or not (whole + fraction).isdigit():
                raise refuse(f"DECIMAL '{text}'", "Athena raises: not a decimal literal")
            precision = max(1, len(whole) + len(fraction))
            out.append(sql[last : first.start])
            out.append(f"CAST('{text}' AS DECIMAL({precision}, {len(fraction)}))")
            last = second.end + 1
    out.append(sql[last:])
    return "".join(out)


def annotate(statement: exp.Expression, columns: dict[str, dict[str, str]], database: str) -> None:
    """Record each node's Trino type in ``node.meta['trino_type']``: sqlglot's annotation (of a qualified
    copy, so that columns resolve through subqueries and CTEs) under Trino's own rules."""
    nodes = list(statement.walk())
    for index, node in enumerate(nodes):
        node.meta["nid"] = index
    databases = {t.db for t in statement.find_all(exp.Table) if t.db} or {database}
    schema = {db: columns for db in databases}
    guessed: dict[int, exp.DataType] = {}
    try:
        copy = qualify(
            statement.copy(),
            schema=schema,
            dialect="athena",
            validate_qualify_columns=False,
            quote_identifiers=False,
        )
        for node in annotate_types(copy, schema=schema, dialect="athena").walk():
            if "nid" in node.meta and node.type is not None:
                guessed.setdefault(node.meta["nid"], node.type)
    except Exception:  # a statement sqlglot cannot qualify: only Trino's own rules type it
        guessed = {}
    for node in reversed(nodes):  # children before parents
        node.meta["trino_type"] = _own_type(node, guessed.get(node.meta["nid"]))


# --- rewriting ------------------------------------------------------------------------------------------


def duckdb_sql(template: str, **parts: exp.Expression) -> exp.Expression:
    """DuckDB SQL with ``{name}`` placeholders replaced by (copies of) the given expressions."""
    tree = sqlglot.parse_one(template.format(**{name: f"__{name}__" for name in parts}), read="duckdb")
    if isinstance(tree, exp.Column) and tree.name[2:-2] in parts:
        return _consumed(parts[tree.name[2:-2]])
    for column in list(tree.find_all(exp.Column)):
        name = column.name
        if name.startswith("__") and name.endswith("__") and name[2:-2] in parts:
            column.replace(exp.Paren(this=_consumed(parts[name[2:-2]])))
    return tree


def _consumed(part: exp.Expression) -> exp.Expression:
    """A copy of a part placed in a template: the template has used its zone."""
    copy = part.copy()
    for node in copy.walk():
        node.meta.pop("zone", None)
    return copy


def _carry(new: exp.Expression, old: exp.Expression, zone: str | None = None) -> exp.Expression:
    new.meta["trino_type"] = type_of(old)
    if zone is not None:
        new.meta["zone"] = zone
    return new


def zone_of(node: exp.Expression) -> str | None:
    """The Trino zone of a timestamp-with-time-zone value built in this statement, else None."""
    while isinstance(node, exp.Paren):
        node = node.this
    zone = node.meta.get("zone")
    return zone if isinstance(zone, str) else None


def _zone_literal(node: exp.Expression, construct: str) -> str:
    import pytz  # DuckDB's time zones need it in Python too (requirements.lock pins it)

    if not (isinstance(node, exp.Literal) and node.is_string):
        raise refuse(construct, "only a literal zone name translates")
    name = node.this
    if name.upper() == UTC:
        return UTC
    if name not in pytz.all_timezones_set:
        raise refuse(f"{construct} '{name}'", "Athena raises for an unknown time zone; name an IANA zone")
    return name


def _local(node: exp.Expression, zone: str) -> exp.Expression:
    """The wall time of an instant in ``zone`` (a zoneless DuckDB TIMESTAMP)."""
    return duckdb_sql(f"{{x}} AT TIME ZONE '{zone}'", x=node)


def _instant(node: exp.Expression, zone: str) -> exp.Expression:
    return duckdb_sql(f"{{x}} AT TIME ZONE '{zone}'", x=node)


def trino_text(node: exp.Expression, zone: str) -> exp.Expression:
    """Trino's VARCHAR of a timestamp(3) with time zone: ``2026-07-01 14:00:00.000 Europe/Zurich``."""
    return duckdb_sql(f"strftime({{x}} AT TIME ZONE '{zone}', '%Y-%m-%d %H:%M:%S.%g') || ' {zone}'", x=node)


def iso8601(node: exp.Expression, zone: str) -> exp.Expression:
    """Trino's ``to_iso8601`` of a timestamp with time zone: ``...T14:00:00.000+02:00``, ``Z`` for UTC."""
    if zone == UTC:
        return duckdb_sql("strftime({x} AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%S.%gZ')", x=node)
    return duckdb_sql(
        f"strftime({{x}} AT TIME ZONE '{zone}', '%Y-%m-%dT%H:%M:%S.%g') || "
        f"(CASE WHEN date_sub('minute', {{x}} AT TIME ZONE 'UTC', {{x}} AT TIME ZONE '{zone}') < 0 "
        "THEN '-' ELSE '+' END) || "
        f"lpad(CAST(abs(date_sub('minute', {{x}} AT TIME ZONE 'UTC', {{x}} AT TIME ZONE '{zone}')) // 60 "
        "AS VARCHAR), 2, '0') || ':' || "
        f"lpad(CAST(abs(date_sub('minute', {{x}} AT TIME ZONE 'UTC', {{x}} AT TIME ZONE '{zone}')) % 60 "
        "AS VARCHAR), 2, '0')",
        x=node,
    )


def _unscaled(placeholder: str, scale: int) -> str:
    """DuckDB SQL of a number's unscaled HUGEINT at ``scale`` (exact: through its decimal text)."""
    return (
        f"CAST(replace(CAST(CAST({{{placeholder}}} AS DECIMAL(38, {scale})) AS VARCHAR), '.', '') AS HUGEINT)"
    )


def exact_decimal_division(
    numerator: exp.Expression, denominator: exp.Expression, scales: tuple[int, int], result: exp.DataType
) -> exp.Expression:
    """Trino's DECIMAL division: exact, rounded half away from zero to the result's scale."""
    s1, s2 = scales
    precision, scale = decimal_params(result) or (_MAX_DECIMAL, 0)
    shift = 10 ** (scale - s1 + s2)
    n = f"({_unscaled('a', s1)} * CAST('{shift}' AS HUGEINT))"
    d = _unscaled("b", s2)
    q = f"(sign({n}) * sign({d}) * ((2 * abs({n}) + abs({d})) // (2 * abs({d}))))"
    unit = f"CAST('{1 / 10**scale:.{scale}f}' AS DECIMAL({max(scale, 1)}, {scale}))" if scale else "1"
    return duckdb_sql(
        f"CASE WHEN {d} = 0 THEN error('Division by zero') "
        f"ELSE CAST(CAST({q} AS DECIMAL(38, 0)) * {unit} AS DECIMAL({precision}, {scale})) END",
        a=numerator,
        b=denominator,
    )


def _division(node: exp.Div) -> exp.Expression:
    left, right = type_of(node.left), type_of(node.right)
    text = node.sql("athena")
    if left.this in _TEXT or right.this in _TEXT:
        raise refuse(text, "Athena raises a type error: cannot divide varchar")
    if left.this in _DOUBLES or right.this in _DOUBLES:
        return node  # DuckDB divides doubles as Trino does (x / 0 is Infinity or NaN in both)
    if left.this in _INTS and right.this in _INTS:
        return _carry(
            duckdb_sql(
                "CASE WHEN {b} = 0 THEN error('Division by zero') ELSE ({a} - {a} % {b}) // {b} END",
                a=node.left,
                b=node.right,
            ),
            node,
        )
    a, b = decimal_params(left), decimal_params(right)
    if a is not None and b is not None:
        return _carry(exact_decimal_division(node.left, node.right, (a[1], b[1]), type_of(node)), node)
    raise refuse(
        f"division {text}",
        "Athena truncates integer division and rounds DECIMAL division to a scale, and the local engine "
        "cannot tell the operands' types here: CAST a side AS DOUBLE (or AS BIGINT, or a DECIMAL(p, s))",
    )


def _average(node: exp.Avg) -> exp.Expression:
    kind = type_of(node)
    params = decimal_params(kind)
    if type_of(node.this).this in _UNTYPED:
        raise refuse(
            node.sql("athena"),
            "Athena keeps the scale of a DECIMAL's average (a double otherwise), and the local engine cannot "
            "tell the argument's type here: CAST it AS DOUBLE or AS DECIMAL(p, s)",
        )
    if kind.this is not T.DECIMAL or params is None:
        return node
    if isinstance(node.parent, exp.Window) or isinstance(node.this, exp.Distinct):
        raise refuse(
            f"{node.sql('athena')} (a window or DISTINCT)",
            "Athena keeps a DECIMAL average's scale; only a plain avg() of a DECIMAL translates",
        )
    total = exp.Sum(this=node.this.copy())
    count = exp.Count(this=node.this.copy())
    division = exact_decimal_division(total, count, (params[1], 0), kind)
    return _carry(duckdb_sql("CASE WHEN {n} = 0 THEN NULL ELSE {v} END", n=count, v=division), node)


def _comparison(node: exp.Expression) -> None:
    """Trino refuses to compare a varchar with a number, a date, a timestamp or a boolean."""
    if isinstance(node, exp.Between):
        operands = [node.this, node.args["low"], node.args["high"]]
    elif isinstance(node, exp.In):
        if node.args.get("query") is not None or node.args.get("unnest") is not None:
            return
        operands = [node.this, *node.expressions]
    else:
        operands = [node.left, node.right]
    kinds = [type_of(o) for o in operands]
    text = any(k.this in _TEXT for k in kinds)
    other = [k for k in kinds if k.this not in _TEXT and k.this not in _UNTYPED]
    if text and other:
        raise refuse(
            node.sql("athena"),
            f"Athena raises a type error (cannot compare varchar with {other[0].sql('trino').lower()}): "
            "quote the value or CAST one side",
        )


def _date_diff(node: exp.DateDiff) -> exp.Expression:
    unit = node.text("unit").lower() or "day"
    start, end = node.expression, node.this
    zones = {zone_of(start), zone_of(end)} - {None}
    if len(zones) == 1 and unit in ("day", "week", "month", "quarter", "year"):
        (zone,) = zones
        start, end = (_local(x, zone) if zone_of(x) else x for x in (start, end))
    return _carry(
        duckdb_sql(f"date_sub('{unit}', {{a}}, {{b}})", a=start, b=end),
        node,
    )


_DATE_UNITS = {"day", "week", "month", "quarter", "year"}


def _date_add(node: exp.DateAdd) -> exp.Expression:
    unit = node.text("unit").lower() or "day"
    target, amount = node.this, node.expression
    is_date = type_of(target).this is T.DATE
    if is_date and unit not in _DATE_UNITS:
        raise refuse(f"date_add('{unit}', ..., <date>)", f"Athena raises: '{unit}' is not a valid DATE field")
    step = "millisecond" if unit == "millisecond" else unit
    zone = zone_of(target)
    base = _local(target, zone) if zone else target
    added = duckdb_sql(f"{{t}} + CAST({{n}} AS BIGINT) * INTERVAL 1 {step.upper()}", t=base, n=amount)
    if is_date:
        return _carry(duckdb_sql("CAST({x} AS DATE)", x=added), node)
    if zone:
        return _carry(_instant(added, zone), node, zone)
    return _carry(added, node)


def _date_trunc(node: exp.Expression) -> exp.Expression:
    unit = node.text("unit").lower()
    target = node.this
    zone = zone_of(target)
    base = _local(target, zone) if zone else target
    truncated = duckdb_sql(f"date_trunc('{unit}', {{x}})", x=base)
    if type_of(target).this is T.DATE:
        return _carry(duckdb_sql("CAST({x} AS DATE)", x=truncated), node)
    if zone:
        return _carry(_instant(truncated, zone), node, zone)
    return _carry(truncated, node)


def _round_timestamp(node: exp.Expression, digits: int) -> exp.Expression:
    """A zoneless timestamp rounded (half up) to ``digits`` fractional digits, as Trino's casts round."""
    factor = 10 ** (6 - digits)
    if factor == 1:
        return node
    return duckdb_sql(
        f"make_timestamp(((epoch_us(CAST({{x}} AS TIMESTAMP)) + {factor // 2}) // {factor}) * {factor})",
        x=node,
    )


def _cast(node: exp.Cast) -> exp.Expression:
    target = node.to
    source = node.this
    zone = zone_of(source)
    safe = isinstance(node, exp.TryCast)
    if zone is not None:
        if target.this in _TEXT:
            return _carry(trino_text(source, zone), node)
        if target.this in (T.TIMESTAMP, T.DATETIME):
            return _carry(duckdb_sql("CAST({x} AS TIMESTAMP)", x=_local(source, zone)), node)
        if target.this is T.DATE:
            return _carry(duckdb_sql("CAST({x} AS DATE)", x=_local(source, zone)), node)
        if target.this is T.TIMESTAMPTZ:
            return _carry(duckdb_sql("{x}", x=source), node, zone)
        raise refuse(
            f"CAST(... AS {target.sql('trino')})", "of a timestamp with time zone does not translate"
        )
    kind = type_of(source)
    if target.this in (T.TIMESTAMP, T.DATETIME):
        params = [p.this for p in target.expressions]
        digits = int(params[0].this) if params and isinstance(params[0], exp.Literal) else 3
        if digits > 6:
            raise refuse(f"CAST(... AS {target.sql('trino')})", "DuckDB keeps microseconds at most")
        plain = exp.TryCast if safe else exp.Cast
        inner = plain(this=source.copy(), to=exp.DataType.build("TIMESTAMP"))
        return _carry(_round_timestamp(inner, digits), node)
    if target.this in _INTS and kind.this in _TEXT:
        # Trino parses digits only (Long.parseLong): '1.5' and ' 12 ' are errors, which DuckDB would cast.
        fail = "NULL" if safe else f"error('Cannot cast ''' || {{x}} || ''' to {target.this.value}')"
        return _carry(
            duckdb_sql(
                f"CASE WHEN regexp_full_match({{x}}, '[+-]?[0-9]+') THEN {'TRY_CAST' if safe else 'CAST'}"
                f"({{x}} AS {target.sql('duckdb')}) ELSE {fail} END",
                x=source,
            ),
            node,
        )
    if target.this in _INTS and kind.this in _DOUBLES:
        # Trino rounds a DOUBLE half away from zero; DuckDB's cast rounds half to even.
        plain = exp.TryCast if safe else exp.Cast
        return _carry(plain(this=duckdb_sql("round({x})", x=source), to=target.copy()), node)
    return node


def _subscript(node: exp.Bracket) -> exp.Expression:
    if node.args.get("safe"):  # element_at: NULL past the end, in both engines
        return node
    if len(node.expressions) != 1:
        return node
    (index,) = node.expressions
    if isinstance(index, exp.Literal) and index.is_string:
        raise refuse(node.sql("athena"), "Athena raises for a key missing from a map: use element_at")
    base = node.this
    if type_of(base).this is T.MAP:
        raise refuse(node.sql("athena"), "Athena raises for a key missing from a map: use element_at")
    shown = duckdb_sql("{x}", x=node)
    # sqlglot keeps the index 0-based inside the tree; Trino's and DuckDB's are 1-based.
    position = (
        exp.Literal.number(int(index.this) + 1)
        if isinstance(index, exp.Literal)
        else exp.Add(this=index.copy(), expression=exp.Literal.number(1))
    )
    return _carry(
        duckdb_sql(
            "CASE WHEN {i} < 1 OR {i} > array_length({a}) THEN error('Array subscript out of bounds') "
            "ELSE {v} END",
            i=position,
            a=base,
            v=shown.this if isinstance(shown, exp.Paren) else shown,
        ),
        node,
    )


def _zoned(node: exp.Expression) -> exp.Expression | None:
    """Constructors of a timestamp with time zone: the DuckDB instant, its zone carried in meta."""
    if isinstance(node, exp.AtTimeZone):
        zone = _zone_literal(node.args["zone"], "AT TIME ZONE")
        source = node.this
        instant = (
            source if zone_of(source) else duckdb_sql("CAST({x} AS TIMESTAMP) AT TIME ZONE 'UTC'", x=source)
        )
        return _carry(duckdb_sql("{x}", x=instant), node, zone)
    if isinstance(node, exp.Anonymous) and node.name.lower() == "with_timezone":
        if len(node.expressions) != 2:
            raise refuse("with_timezone", "takes a timestamp and a zone")
        zone = _zone_literal(node.expressions[1], "with_timezone")
        return _carry(
            duckdb_sql(f"CAST({{x}} AS TIMESTAMP) AT TIME ZONE '{zone}'", x=node.expressions[0]), node, zone
        )
    if isinstance(node, exp.UnixToTime):
        if node.args.get("scale") is not None or node.args.get("hours") or node.args.get("minutes"):
            raise refuse("from_unixtime(x, hours, minutes)", "only from_unixtime(x [, zone]) translates")
        zone = _zone_literal(node.args["zone"], "from_unixtime") if node.args.get("zone") else UTC
        # timestamp(3): Trino rounds the seconds to milliseconds (Math.round).
        return _carry(
            duckdb_sql(
                "epoch_ms(CAST(floor(CAST({x} AS DOUBLE) * 1000 + 0.5) AS BIGINT)) AT TIME ZONE 'UTC'",
                x=node.this,
            ),
            node,
            zone,
        )
    if isinstance(node, exp.CurrentTimestamp):
        return _carry(duckdb_sql("date_trunc('millisecond', current_timestamp)"), node, UTC)
    return None


def _consumes_zone(parent: exp.Expression | None) -> bool:
    """Parents that keep Trino's meaning when handed a DuckDB TIMESTAMPTZ instant."""
    return isinstance(
        parent,
        (*_COMPARISONS, exp.Between, exp.In, exp.Ordered, exp.Min, exp.Max, exp.Paren, exp.Sub),
    )


def rewrite(statement: exp.Expression, more: Callable[[exp.Expression], exp.Expression]) -> exp.Expression:
    """Trino's answers in DuckDB SQL (children before parents; ``more``: the engine's own function rewrites),
    or :class:`TranslationError`."""
    for node in reversed(list(statement.walk())):
        new = _rewrite_one(node)
        if new is node:
            new = more(node)
        if new is not node:
            if node is statement:
                statement = new
            else:
                node.replace(new)
    for select in [statement] if isinstance(statement, exp.Select) else statement.find_all(exp.Select):
        if select.parent_select is None:
            render_zoned_outputs(select)
    for node in statement.walk():
        zone = zone_of(node)
        if zone and zone != UTC and not _consumes_zone(node.parent):
            raise refuse(
                f"{node.sql('duckdb')[:60]} (a timestamp with time zone {zone})",
                "Athena keeps its zone; the local engine does only in CAST, to_iso8601, format_datetime, "
                "date_trunc, date_add, date_diff, hour() and the like, comparisons and the output: use one",
            )
    return statement


def _rewrite_one(node: exp.Expression) -> exp.Expression:
    zoned = _zoned(node)
    if zoned is not None:
        return zoned
    if isinstance(node, (exp.Cast, exp.TryCast)):
        return _cast(node)
    if isinstance(node, _ARITHMETIC):
        for side in (node.left, node.right):
            if type_of(side).this in _TEXT:
                raise refuse(node.sql("athena"), "Athena raises a type error: arithmetic on a varchar")
        if isinstance(node, exp.Div):
            return _division(node)
        return node
    if isinstance(node, (*_COMPARISONS, exp.Between, exp.In)):
        _comparison(node)
        return node
    if isinstance(node, exp.Avg):
        return _average(node)
    if isinstance(node, exp.DateDiff):
        return _date_diff(node)
    if isinstance(node, exp.DateAdd):
        return _date_add(node)
    if isinstance(node, (exp.TimestampTrunc, exp.DateTrunc)):
        return _date_trunc(node)
    if isinstance(node, exp.Bracket):
        return _subscript(node)
    if isinstance(node, _LOCAL_PARTS):
        zone = zone_of(node.this)
        if zone:
            node.set("this", _local(node.this, zone))
        return node
    return node


def render_zoned_outputs(select: exp.Expression) -> None:
    """The outermost SELECT's zoned outputs as Athena returns them: ``yyyy-MM-dd HH:mm:ss.SSS <zone>``."""
    if not isinstance(select, exp.Select):
        return
    for item in select.expressions:
        inner = item.this if isinstance(item, exp.Alias) else item
        zone = zone_of(inner)
        if zone:
            inner.replace(trino_text(inner, zone))


def approximate(nodes: Iterable[exp.Expression]) -> bool:
    return any(isinstance(n, (exp.ApproxDistinct, exp.ApproxQuantile)) for n in nodes)
