"""The API a ministry system talks to (issue 14): django-ninja under ``/api/v1/``.

It sits above every other app (it reads units, programmes, figures and pivots, and no app
imports it), and answers through the same scope helpers as the pages
(:mod:`tiendo.accounts.scope`): a token reads exactly what its user reads on the site.
"""
