"""What the placeholders of a Word template may reach, checked before it is stored or rendered.

A template is Jinja written by a user, run on the server. It is rendered in Jinja's
``SandboxedEnvironment`` (``render.jinja_environment``), and before that every placeholder
is read with Jinja's own parser: a name outside the documented variables
(``variables.py``: ``header``, ``report``, ``f``, ``fy``, ``fp``, ``programmes``, ``n``,
``annexes``, and the template's own loop variables), an attribute or key beginning with
``_`` (``''.__class__``, ``lipsum.__globals__``) or an unknown filter refuses the template,
naming the placeholder and its paragraph. The check runs at upload and again at every
rendering, for templates stored before it existed.
"""

from __future__ import annotations

import re

from django.utils.translation import gettext as _
from docx.oxml.ns import qn
from jinja2 import TemplateSyntaxError, meta, nodes

from tiendo.documents import variables

_PLACEHOLDER = re.compile(r"\{\{.*?\}\}|\{%.*?%\}", re.DOTALL)
_BLOCK = re.compile(r"^(?:for\s+.+?\s+in|if|elif)\s+(.+)$", re.DOTALL)
_PREFIX = re.compile(r"^-?(?:p|r|tr|tc)?\s+")
HEADER_URI = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/header"
FOOTER_URI = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/footer"
# More placeholders than any report has: Jinja's compiler would use a lot of memory.
MAX_PLACEHOLDERS = 5000


def documented_names() -> set[str]:
    """The top-level names of the documented variables (``header``, ``f``, ``n``, …)."""
    names = set()
    documented = [n for n, *_rest in variables.FIGURE_METHODS]
    documented += [n for n, _d in variables.HEADER_VARIABLES + variables.REPORT_VARIABLES]
    for name in documented:
        match = re.match(r"^(?:\{\{p\s+)?([A-Za-z]\w*)", name)
        if match:
            names.add(match.group(1))
    return names


def _sources(tpl) -> list[tuple[str, str, list]]:
    """(label, Jinja source after docxtpl's preprocessing, paragraphs) of each part."""
    from docx.oxml import parse_xml  # noqa: PLC0415

    parts = [(_("Đoạn %(n)s"), tpl.patch_xml(tpl.get_xml()), tpl.docx.element.body)]
    for uri, label in (
        (HEADER_URI, _("Đầu trang, đoạn %(n)s")),
        (FOOTER_URI, _("Chân trang, đoạn %(n)s")),
    ):
        for _key, part in tpl.get_headers_footers(uri):
            element = parse_xml(part.blob)
            parts.append((label, tpl.patch_xml(tpl.xml_to_string(element)), element))
    return [(label, source, list(element.iter(qn("w:p")))) for label, source, element in parts]


def _expression(placeholder: str) -> str | None:
    """The expression inside one placeholder, ``None`` for an end tag."""
    inner = placeholder[2:-2].strip()
    if placeholder.startswith("{{"):
        return _PREFIX.sub("", inner + " ", count=1).strip() or None
    inner = _PREFIX.sub("", inner + " ", count=1).strip()
    if inner.startswith("set ") and "=" in inner:
        return inner.split("=", 1)[1]
    match = _BLOCK.match(inner)
    return match.group(1) if match else None


def _findings(tree, env) -> list[tuple[str, str]]:
    """(kind, name) of every underscore attribute and unknown filter in a Jinja tree."""
    found = []
    for node in tree.find_all((nodes.Getattr, nodes.Getitem, nodes.Filter)):
        if isinstance(node, nodes.Getattr) and node.attr.startswith("_"):
            found.append(("private", node.attr))
        elif (
            isinstance(node, nodes.Getitem)
            and isinstance(node.arg, nodes.Const)
            and isinstance(node.arg.value, str)
            and node.arg.value.startswith("_")
        ):
            found.append(("private", node.arg.value))
        elif isinstance(node, nodes.Filter):
            if node.name not in env.filters:
                found.append(("filter", node.name))
            elif node.name == "attr" and any(
                isinstance(a, nodes.Const) and str(a.value).startswith("_") for a in node.args
            ):
                found.append(("private", str(node.args[0].value)))
    return found


def _locate(paragraphs, label: str, env, kind: str, name: str) -> tuple[str, str]:
    """The paragraph label and the placeholder text where ``name`` is used first."""
    for number, paragraph in enumerate(paragraphs, start=1):
        text = "".join(t.text or "" for t in paragraph.iter(qn("w:t")))
        for placeholder in _PLACEHOLDER.findall(text):
            expression = _expression(placeholder)
            if expression is None:
                continue
            try:
                tree = env.parse("{{ " + expression + " }}")
            except TemplateSyntaxError:
                continue
            if kind == "name":
                hit = name in {n.name for n in tree.find_all(nodes.Name)}
            else:
                hit = (kind, name) in _findings(tree, env)
            if hit:
                return label % {"n": number}, placeholder
    return label % {"n": "?"}, ""


def template_problems(tpl, env) -> list[str]:
    """Vietnamese messages, one per offending placeholder; empty when the template is safe.

    ``tpl`` is an opened ``DocxTemplate``; ``env`` the environment it will be rendered in.
    """
    allowed = documented_names()
    problems: list[str] = []
    for label, source, paragraphs in _sources(tpl):
        if source.count("{{") + source.count("{%") > MAX_PLACEHOLDERS:
            return [
                _("Mẫu có hơn %(max)s chỗ đặt biến; không mẫu báo cáo nào cần nhiều như vậy.")
                % {"max": MAX_PLACEHOLDERS}
            ]
        try:
            tree = env.parse(source)
            findings = list(dict.fromkeys(_findings(tree, env)))
            if not any(kind == "filter" for kind, _name in findings):
                undeclared = meta.find_undeclared_variables(tree) - allowed
                findings = [("name", n) for n in sorted(undeclared)] + findings
        except TemplateSyntaxError as exc:
            problems.append(_("Mẫu có lỗi ở chỗ đặt biến: %(error)s") % {"error": exc.message})
            continue
        for kind, name in findings:
            where, placeholder = _locate(paragraphs, label, env, kind, name)
            shown = f" ({placeholder[:80]})" if placeholder else ""
            if kind == "name":
                message = _(
                    "%(where)s: biến “%(name)s” không có trong danh sách biến của mẫu báo cáo"
                    "%(placeholder)s."
                )
            elif kind == "private":
                message = _(
                    "%(where)s: thuộc tính “%(name)s” bắt đầu bằng “_”, mẫu báo cáo không được "
                    "dùng%(placeholder)s."
                )
            else:
                message = _("%(where)s: bộ lọc “%(name)s” không có%(placeholder)s.")
            problems.append(message % {"where": where, "name": name, "placeholder": shown})
    return problems
