from django.conf import settings
from django.utils import translation


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
