"""User-facing wording lives in Jinja2 templates (notify/templates/, Chinese); this renders them.

A template's first non-empty line is the title, the rest the body. Undefined variables are errors, never
silently blank text in a message to a unit.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import jinja2

TEMPLATES_DIR = Path(__file__).parent / "templates"


@cache
def environment() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES_DIR), undefined=jinja2.StrictUndefined,
                             trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=False, autoescape=False)
    env.globals["pct"] = lambda x: f"{float(x) * 100:.1f}%"
    return env


def render(name: str, **context) -> tuple[str, str]:
    """(title, body) of template `name`."""
    text = environment().get_template(name).render(**context)
    text = re.sub(r"\n[ \t]*\n(\s*\n)+", "\n\n", text).strip()
    title, _, body = text.partition("\n")
    return title.strip(), body.strip()


def exists(name: str) -> bool:
    return (TEMPLATES_DIR / name).is_file()
