"""A small, safe expression language over indicator codes.

Used for computed indicators (``NQ04_DISBURSED / NQ04_CAPITAL_PLAN * 100``) and for
validation rules (``NQ05_GARDENS <= NQ05_HOUSEHOLDS``). It is parsed by hand into a tree
and evaluated by walking that tree: nothing is ever handed to ``eval``.

Grammar::

    rule       := comparison ("if" comparison)?
    comparison := sum (COMPARE sum | "≈" sum "±" sum)?
    sum        := product (("+" | "-") product)*
    product    := unary (("*" | "/" | "×" | "÷") unary)*
    unary      := "-" unary | atom
    atom       := NUMBER | reference | FUNCTION "(" args ")" | "(" sum ")"
    reference  := CODE ("[" CATEGORY "]")?

``A ≈ B ± t`` (ASCII ``A ~= B +/- t``) holds when ``A`` and ``B`` differ by at most ``t``: a
ratio a report states beside its operands (``STATED_RATE ≈ PAID / PLAN * 100 ± 0.05``) is
right to within its rounding, never exactly.

``RULE if CONDITION`` applies the rule only where the condition holds (elsewhere it is not
evaluated): ``JOBS != HOUSEHOLDS if JOBS >= 100`` — two counts agreeing by chance is
likely in a small commune, not in a province.

``count_units(CONDITION, ...)`` (in a formula only) is the number of reporting units below
the unit whose own figures meet every condition: ``count_units(CRIT_MET >= 19)`` the
communes meeting all 19 criteria, ``count_units(CRIT_MET >= 15, CRIT_MET <= 18)`` those
with 15 to 18. How the Aggregator picks the units: :meth:`Aggregator.count_units`.

Functions: ``prev(x)`` (the value of ``x`` in the previous period), ``todate(x)`` (in a
validation rule only: ``x`` from the start of the rule's programme period to the end of the
period checked — the disbursement "so far" of a 2022 report, beside the cumulative
households of 2022), ``sum(CODE)`` (the
total over every category of an indicator — what a bare ``CODE`` means after aggregation,
written out for readers of a rule such as ``sum(VON) = VON[TW] + VON[DP]``), ``abs``,
``min``, ``max``. A missing value makes the whole expression missing (``None``), as does a
division by zero: a rate with no plan is "not computed", never 0 or infinity.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext_lazy as _

from tiendo.core.errors import TiendoError

COMPARATORS = {
    "=": "==",
    "==": "==",
    "!=": "!=",
    "≠": "!=",
    "<>": "!=",
    "<": "<",
    "<=": "<=",
    "≤": "<=",
    ">": ">",
    ">=": ">=",
    "≥": ">=",
    "≈": "~=",
    "~=": "~=",
}
TOLERANCE_SIGNS = {"±", "+/-"}
FUNCTIONS = {
    "prev": 1,
    "todate": 1,
    "sum": 1,
    "abs": 1,
    "min": None,
    "max": None,
    "count_units": None,
}
# functions that move a reference to another period: only validation rules may use them
RULE_ONLY_FUNCTIONS = {"todate"}
# functions that read the units below: only computed indicators may use them
FORMULA_ONLY_FUNCTIONS = {"count_units"}

_TOKEN = re.compile(
    r"\s*(?:"
    r"(?P<number>\d+(?:\.\d+)?)"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_]*)"
    r"|(?P<op><=|>=|==|!=|<>|~=|\+/-|[-+*/×÷()\[\],<>=≤≥≠≈±])"
    r")"
)


class ExpressionError(TiendoError, ValueError):
    """The text is not an expression; the message says where and why."""

    code = "expression.invalid"


@dataclass(frozen=True)
class Num:
    value: Decimal


@dataclass(frozen=True)
class Ref:
    code: str
    category: str = ""


@dataclass(frozen=True)
class Neg:
    operand: object


@dataclass(frozen=True)
class BinOp:
    op: str
    left: object
    right: object


@dataclass(frozen=True)
class Call:
    name: str
    args: tuple


@dataclass(frozen=True)
class Compare:
    op: str
    left: object
    right: object
    tolerance: object = None  # only for "~=": the largest difference that still holds
    condition: object = None  # "... if CONDITION": where the rule applies at all


def _tokenize(text: str) -> list[tuple[str, str, int]]:
    tokens, pos = [], 0
    stripped = text.rstrip()
    while pos < len(stripped):
        match = _TOKEN.match(stripped, pos)
        if not match or match.end() == pos:
            raise ExpressionError(
                _("Ký tự không hợp lệ “%(character)s” ở vị trí %(position)s."),
                code="expression.bad_character",
                character=stripped[pos : pos + 1],
                position=pos + 1,
            )
        kind = match.lastgroup
        tokens.append((kind, match.group(kind), match.start(kind)))
        pos = match.end()
    return tokens


class _Parser:
    def __init__(self, text: str, *, allow_compare: bool = False):
        self.text = text
        self.tokens = _tokenize(text)
        self.pos = 0
        self.in_rule = allow_compare

    def peek(self) -> tuple[str, str, int] | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self, value: str | None = None) -> tuple[str, str, int]:
        token = self.peek()
        if token is None:
            raise ExpressionError(
                _("Biểu thức kết thúc giữa chừng."), code="expression.unexpected_end"
            )
        if value is not None and token[1] != value:
            raise ExpressionError(
                _("Cần “%(expected)s” ở vị trí %(position)s, gặp “%(found)s”."),
                code="expression.expected",
                expected=value,
                position=token[2] + 1,
                found=token[1],
            )
        self.pos += 1
        return token

    def parse(self, *, allow_compare: bool):
        if not self.tokens:
            raise ExpressionError(_("Biểu thức trống."), code="expression.empty")
        node = self.comparison(allow_compare=allow_compare)
        token = self.peek()
        if token and token[0] == "name" and token[1].lower() == "if":
            node = self.condition(node, token)
        token = self.peek()
        if token is not None:
            raise ExpressionError(
                _("Thừa “%(found)s” ở vị trí %(position)s."),
                code="expression.trailing",
                found=token[1],
                position=token[2] + 1,
            )
        return node

    def condition(self, node, if_token) -> Compare:
        """``RULE if CONDITION``: the rule ``node`` with the comparison after ``if``."""
        if not isinstance(node, Compare):
            raise ExpressionError(
                _("Điều kiện “if” (vị trí %(position)s) chỉ theo sau một phép so sánh."),
                code="expression.condition_without_rule",
                position=if_token[2] + 1,
            )
        self.take()
        condition = self.comparison(allow_compare=True)
        if not isinstance(condition, Compare) or condition.condition is not None:
            raise ExpressionError(
                _("Sau “if” (vị trí %(position)s) cần một phép so sánh, ví dụ if A >= 100."),
                code="expression.condition_not_comparison",
                position=if_token[2] + 1,
            )
        return Compare(node.op, node.left, node.right, node.tolerance, condition)

    def comparison(self, *, allow_compare: bool):
        node = self.sum()
        token = self.peek()
        if not (token and token[1] in COMPARATORS):
            return node
        if not allow_compare:
            raise ExpressionError(
                _("Công thức không được chứa phép so sánh (vị trí %(position)s)."),
                code="expression.comparison_in_formula",
                position=token[2] + 1,
            )
        self.take()
        if self.peek() and self.peek()[1] in COMPARATORS:
            raise ExpressionError(
                _("Hai phép so sánh liền nhau ở vị trí %(position)s."),
                code="expression.double_comparison",
                position=self.peek()[2] + 1,
            )
        op = COMPARATORS[token[1]]
        right = self.sum()
        return Compare(op, node, right, self.tolerance(op, token))

    def tolerance(self, op: str, comparator):
        """The ``± t`` after ``A ≈ B``, which only an approximate comparison takes."""
        sign = self.peek()
        has_sign = sign is not None and sign[1] in TOLERANCE_SIGNS
        if has_sign and op == "~=":
            self.take()
            return self.sum()
        if not has_sign and op != "~=":
            return None
        if has_sign:
            message = _(
                "Mức sai lệch “%(token)s” (vị trí %(position)s) chỉ dùng với phép so "
                "sánh gần đúng ≈."
            )
            code, token = "expression.tolerance_not_approximate", sign
        else:
            message = _(
                "Phép so sánh gần đúng “%(token)s” (vị trí %(position)s) cần mức "
                "sai lệch cho phép, ví dụ A ≈ B ± 0.05."
            )
            code, token = "expression.tolerance_missing", comparator
        raise ExpressionError(message, code=code, token=token[1], position=token[2] + 1)

    def sum(self):
        node = self.product()
        while (token := self.peek()) and token[1] in "+-" and token[0] == "op":
            self.take()
            node = BinOp(token[1], node, self.product())
        return node

    def product(self):
        node = self.unary()
        while (token := self.peek()) and token[0] == "op" and token[1] in ("*", "/", "×", "÷"):
            self.take()
            op = "*" if token[1] in ("*", "×") else "/"
            node = BinOp(op, node, self.unary())
        return node

    def unary(self):
        token = self.peek()
        if token and token[1] == "-":
            self.take()
            return Neg(self.unary())
        if token and token[1] == "+":
            self.take()
            return self.unary()
        return self.atom()

    def atom(self):
        kind, value, position = self.take()
        if kind == "number":
            return Num(Decimal(value))
        if kind == "name":
            nxt = self.peek()
            if nxt and nxt[1] == "(":
                return self.call(value, position)
            return self.reference(value, nxt)
        if value == "(":
            node = self.sum()
            self.take(")")
            return node
        raise ExpressionError(
            _("Không chờ đợi “%(found)s” ở vị trí %(position)s."),
            code="expression.unexpected",
            found=value,
            position=position + 1,
        )

    def call(self, name: str, position: int) -> Call:
        function = name.lower()
        if function not in FUNCTIONS:
            raise ExpressionError(
                _("Hàm “%(function)s” không được hỗ trợ (vị trí %(position)s)."),
                code="expression.unknown_function",
                function=name,
                position=position + 1,
            )
        self.check_place(function, name, position)
        self.take("(")
        if function == "count_units":
            return Call(function, self.conditions(name, position))
        args = [self.sum()]
        while self.peek() and self.peek()[1] == ",":
            self.take(",")
            args.append(self.sum())
        self.take(")")
        arity = FUNCTIONS[function]
        if arity is not None and len(args) != arity:
            raise ExpressionError(
                _("Hàm “%(function)s” cần %(arity)s tham số."),
                code="expression.arity",
                function=name,
                arity=arity,
            )
        if function == "sum" and not (isinstance(args[0], Ref) and not args[0].category):
            raise ExpressionError(
                _(
                    "Hàm “%(function)s” cộng mọi phân tổ của một chỉ tiêu: cần đúng một mã "
                    "chỉ tiêu không kèm phân tổ, ví dụ sum(MA_CHI_TIEU) (vị trí %(position)s)."
                ),
                code="expression.sum_argument",
                function=name,
                position=position + 1,
            )
        return Call(function, tuple(args))

    def check_place(self, function: str, name: str, position: int) -> None:
        """Refuse a function where it cannot be evaluated: ``todate`` outside a rule,
        ``count_units`` inside one."""
        if function in RULE_ONLY_FUNCTIONS and not self.in_rule:
            raise ExpressionError(
                _(
                    "Hàm “%(function)s” chỉ dùng trong quy tắc kiểm tra, không dùng trong "
                    "công thức (vị trí %(position)s)."
                ),
                code="expression.rule_only_function",
                function=name,
                position=position + 1,
            )
        if function in FORMULA_ONLY_FUNCTIONS and self.in_rule:
            raise ExpressionError(
                _(
                    "Hàm “%(function)s” chỉ dùng trong công thức của chỉ tiêu tính toán, "
                    "không dùng trong quy tắc kiểm tra (vị trí %(position)s)."
                ),
                code="expression.formula_only_function",
                function=name,
                position=position + 1,
            )

    def conditions(self, name: str, position: int) -> tuple:
        """The comparisons of ``count_units(...)``, up to its closing parenthesis."""
        conditions = []
        while True:
            start = self.peek()
            node = self.comparison(allow_compare=True)
            if not isinstance(node, Compare) or _calls(node, "count_units"):
                raise ExpressionError(
                    _(
                        "Hàm “%(function)s” (vị trí %(position)s) cần các điều kiện so sánh, "
                        "ví dụ count_units(SO_TIEU_CHI >= 19)."
                    ),
                    code="expression.count_condition",
                    function=name,
                    position=(start[2] if start else position) + 1,
                )
            conditions.append(node)
            if not (self.peek() and self.peek()[1] == ","):
                break
            self.take(",")
        self.take(")")
        return tuple(conditions)

    def reference(self, code: str, nxt) -> Ref:
        category = ""
        if nxt and nxt[1] == "[":
            self.take("[")
            cat_kind, category, cat_pos = self.take()
            if cat_kind not in ("name", "number"):
                raise ExpressionError(
                    _("Mã phân tổ không hợp lệ ở vị trí %(position)s."),
                    code="expression.bad_category",
                    position=cat_pos + 1,
                )
            self.take("]")
        return Ref(code, category)


def _calls(node, name: str) -> bool:
    """Whether a tree calls the function ``name`` anywhere."""
    match node:
        case Call(name=called, args=args):
            return called == name or any(_calls(a, name) for a in args)
        case Neg(operand=operand):
            return _calls(operand, name)
        case BinOp(left=left, right=right):
            return _calls(left, name) or _calls(right, name)
        case Compare(left=left, right=right, tolerance=tolerance, condition=condition):
            parts = (left, right, tolerance, condition)
            return any(p is not None and _calls(p, name) for p in parts)
    return False


def parse(text: str, *, allow_compare: bool = False):
    """Parse ``text`` into a tree; raise :class:`ExpressionError` if it is not an expression."""
    if not isinstance(text, str):
        raise ExpressionError(_("Biểu thức phải là chuỗi ký tự."), code="expression.not_text")
    return _Parser(text, allow_compare=allow_compare).parse(allow_compare=allow_compare)


def parse_rule(text: str) -> Compare:
    node = parse(text, allow_compare=True)
    if not isinstance(node, Compare):
        raise ExpressionError(
            _("Quy tắc kiểm tra phải có một phép so sánh (=, ≠, <, ≤, >, ≥)."),
            code="expression.not_a_rule",
        )
    return node


def rule_sides(text: str) -> tuple[str, str, str]:
    """Split a rule into its left text, comparison (``==``, ``<=``, …) and right text."""
    node = parse_rule(text)
    for kind, value, position in _tokenize(text):
        if kind == "op" and value in COMPARATORS:
            return text[:position].strip(), node.op, text[position + len(value) :].strip()
    raise AssertionError(text)  # parse_rule found a comparison


def references(node) -> set[str]:
    """Indicator codes an expression reads."""
    match node:
        case Ref(code=code):
            return {code}
        case Num():
            return set()
        case Neg(operand=operand):
            return references(operand)
        case Compare(left=left, right=right, tolerance=tolerance, condition=condition):
            extra = set()
            for part in (tolerance, condition):
                if part is not None:
                    extra |= references(part)
            return references(left) | references(right) | extra
        case BinOp(left=left, right=right):
            return references(left) | references(right)
        case Call(args=args):
            return set().union(*(references(a) for a in args))
    raise TypeError(node)


Resolver = Callable[..., Decimal | None]


def evaluate(node, resolve: Resolver, *, offset: int = 0, to_date: bool = False, count=None):
    """Evaluate with ``resolve(code, category, period_offset)`` giving values (or None).

    Inside ``todate(...)`` the resolver is asked ``resolve(code, category, offset,
    to_date=True)``: only a rule's resolver needs to know that keyword. ``count(conditions,
    period_offset)`` answers ``count_units(...)``; without it the call is refused.
    """
    kw = {"offset": offset, "to_date": to_date, "count": count}
    match node:
        case Num(value=value):
            return value
        case Ref(code=code, category=category):
            if to_date:
                return resolve(code, category, offset, to_date=True)
            return resolve(code, category, offset)
        case Neg(operand=operand):
            value = evaluate(operand, resolve, **kw)
            return None if value is None else -value
        case BinOp(op=op, left=left, right=right):
            return _arithmetic(op, evaluate(left, resolve, **kw), evaluate(right, resolve, **kw))
        case Call(name="prev", args=(arg,)):
            return evaluate(arg, resolve, **(kw | {"offset": offset - 1}))
        case Call(name="todate", args=(arg,)):
            return evaluate(arg, resolve, **(kw | {"to_date": True}))
        case Call(name="count_units", args=conditions):
            if count is None:
                raise ExpressionError(
                    _("Hàm “count_units” chỉ dùng trong công thức của chỉ tiêu tính toán."),
                    code="expression.formula_only_function",
                )
            return count(conditions, offset)
        case Call(name="sum", args=(arg,)):
            # after aggregation a bare reference already is the total over its categories
            return evaluate(arg, resolve, **kw)
        case Call(name=name, args=args):
            return _function(name, [evaluate(a, resolve, **kw) for a in args])
        case Compare():
            return _comparison(node, resolve, kw)
    raise TypeError(node)


def _arithmetic(op: str, a: Decimal | None, b: Decimal | None) -> Decimal | None:
    if a is None or b is None:
        return None
    try:
        if op == "+":
            return a + b
        if op == "-":
            return a - b
        if op == "*":
            return a * b
        if b == 0:
            return None
        return a / b
    except InvalidOperation:
        return None


def _function(name: str, values: list[Decimal | None]) -> Decimal | None:
    """``abs``, ``min`` or ``max`` of values already evaluated."""
    if any(v is None for v in values):
        return None
    if name == "abs":
        return abs(values[0])
    return min(values) if name == "min" else max(values)


def _comparison(node: Compare, resolve: Resolver, kw: dict) -> bool | None:
    if node.condition is not None:
        applies = evaluate(node.condition, resolve, **kw)
        if not applies:  # missing, or the rule does not apply here
            return None
    a = evaluate(node.left, resolve, **kw)
    b = evaluate(node.right, resolve, **kw)
    if a is None or b is None:
        return None
    if node.op == "~=":
        t = evaluate(node.tolerance, resolve, **kw)
        return None if t is None else abs(a - b) <= t
    return {"==": a == b, "!=": a != b, "<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[node.op]
