"""The README's table lists every environment variable the settings read."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SETTINGS = sorted((ROOT / "config" / "settings").glob("*.py"))

# env("X"), env.int("X", ...), env_bool("X", ...), os.environ.get("X"),
# os.environ["X"], os.getenv("X") with the name as a string literal.
READ = re.compile(
    r"""(?:\benv(?:\.\w+)?|\benv_bool|\benv_secret|os\.environ\.get|os\.getenv|os\.environ\[)\(?\s*["']([A-Z][A-Z0-9_]*)["']"""
)
SECRET = re.compile(r"""\benv_secret\(\s*["']([A-Z][A-Z0-9_]*)["']""")


def variables_read_by_settings() -> set[str]:
    names = set()
    for module in SETTINGS:
        source = module.read_text()
        names |= set(READ.findall(source))
        # env_secret("X") also reads X_FILE.
        names |= {f"{name}_FILE" for name in SECRET.findall(source)}
    return names


def variables_in_readme_table() -> set[str]:
    rows = (line for line in (ROOT / "README.md").read_text().splitlines() if line.startswith("| `"))
    return {m.group(1) for row in rows if (m := re.match(r"\| `([A-Z][A-Z0-9_]*)` \|", row))}


def test_the_parser_finds_the_variables_it_should():
    # Guards the regex itself: if it silently matched nothing, the test
    # below would pass for ever.
    found = variables_read_by_settings()
    assert {"DATABASE_URL", "SECRET_KEY", "SECRET_KEY_FILE", "DEBUG", "ALLOWED_HOSTS",
            "CELERY_BROKER_URL", "SECURE_SSL_REDIRECT", "REFERRAL_DECISION_HOURS"} <= found


def test_every_variable_the_settings_read_is_in_the_readme_table():
    missing = variables_read_by_settings() - variables_in_readme_table()
    assert not missing, f"add to the README's configuration table: {sorted(missing)}"
