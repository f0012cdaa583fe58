"""The top floor: the home page, which gathers a card or two from every app for each role.

It stands above every domain app (it reads from all of them and none reads from it), so that
``config`` holds settings and routing only and no app imports from a floor above its own.
"""
