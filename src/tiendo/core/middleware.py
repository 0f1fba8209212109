from django.conf import settings
from django.shortcuts import render
from django.utils import translation
from django.utils.translation import gettext as _


class LanguageMiddleware:
    """Vietnamese for everyone unless the user chose another language on the page.

    Django's LocaleMiddleware would follow the browser's Accept-Language header; an office
    computer with an English browser must still show the Vietnamese screens.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self.languages = {code for code, _name in settings.LANGUAGES}

    def __call__(self, request):
        language = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        if language not in self.languages:
            language = settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", request.LANGUAGE_CODE)
        translation.deactivate()
        return response


class RefuseNulMiddleware:
    """Answer 400 to a request carrying a NUL character (``%00``) anywhere a view reads text.

    PostgreSQL cannot store or even compare a string holding NUL: the driver raises before the
    query runs, so ``?period=%00`` or a comment with ``\\x00`` ended in a server error on most
    pages. No form or browser sends NUL in a field, so the request is refused whole, naming the
    field, before any view (or the session lookup: cookies are checked too) touches a database.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        field = self._field_with_nul(request)
        if field is not None:
            return render(request, "400.html", {"field": field}, status=400)
        return self.get_response(request)

    @staticmethod
    def _field_with_nul(request) -> str | None:
        if "\x00" in request.path_info:
            return _("địa chỉ trang")
        for name, value in request.COOKIES.items():
            if "\x00" in name or "\x00" in value:
                return _("cookie “%(name)s”") % {"name": name.replace("\x00", "")}
        sources = [request.GET]
        if request.method == "POST":
            sources.append(request.POST)
        for data in sources:
            for name, values in data.lists():
                if "\x00" in name or any("\x00" in v for v in values):
                    return name.replace("\x00", "")
        if request.method == "POST":
            for name, files in request.FILES.lists():
                if "\x00" in name or any("\x00" in (f.name or "") for f in files):
                    return name.replace("\x00", "")
        return None
