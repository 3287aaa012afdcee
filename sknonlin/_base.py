"""What every estimator of the package shares."""

DOCS_URL = "https://sknonlin.readthedocs.io/en/latest/"


class DocLinkMixin:
    """Link an estimator's HTML representation (in notebooks) to its API page."""

    _doc_link_module = "sknonlin"
    _doc_link_template = DOCS_URL + "gen_modules/sknonlin.{estimator_name}.html"
