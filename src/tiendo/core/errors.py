"""The one error type the system explains to its user.

Every refusal that reaches a person — a period that cannot be read, a workflow step not
allowed now, an Excel row with a bad figure, a package key that is wrong — is a
:class:`TiendoError` (or a subclass). It carries

* ``code``: a stable, ASCII, dotted identifier (``"period.invalid"``,
  ``"reporting.not_editable"``) that tests and API clients match on; wording may change,
  the code does not;
* ``message``: a *lazy* translatable text (``gettext_lazy``) with named placeholders
  (``%(period)s``), rendered in the language of the request when the error is shown;
* ``params``: the values of those placeholders.

Raise it as ``PeriodError(_("Kỳ báo cáo “%(text)s” quá dài."), code="period.too_long",
text=shown(text))`` with ``_ = gettext_lazy``; never build the message with an f-string,
or English pages show Vietnamese errors.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _


class TiendoError(Exception):
    """Base of every domain error. Subclasses set a default ``code`` and ``default_message``."""

    code: str = "error"
    default_message = _("Thao tác không thực hiện được.")

    def __init__(self, message=None, *, code: str | None = None, **params):
        if code is not None:
            self.code = code
        self.message = self.default_message if message is None else message
        self.params = params
        super().__init__(self.message)

    def __str__(self) -> str:
        text = str(self.message)  # a lazy message is translated here, in today's language
        return text % self.params if self.params else text

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, message={str(self)!r})"
