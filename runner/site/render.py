"""The Jinja2 environment (autoescape always on) shared by every generated fragment."""

from __future__ import annotations

from functools import cache

from jinja2 import Environment, PackageLoader, StrictUndefined, Template
from markupsafe import Markup

from runner.site import fmt


@cache
def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("runner.site", "templates"),
        autoescape=True,  # every participant string is escaped; Markup is built only in fmt
        undefined=StrictUndefined,
        trim_blocks=False,
        keep_trailing_newline=False,
        finalize=fmt.shown,  # bidi and zero-width characters never reach a page
    )
    env.filters["link"] = fmt.link
    return env


def template(name: str) -> Template:
    return environment().get_template(name)


def render(name: str, **context: object) -> Markup:
    """The rendered fragment, marked safe so another template can embed it unescaped."""
    # autoescape already escaped every value the template printed
    return Markup(template(name).render(**context))  # noqa: S704
