"""What `vigil serve` does not do at start (`make run` is ready in <= 1.5 s): import what only some paths need
(an HTTP client, JWT verification, the rules language's parser), let the garbage collector walk what the CLI's
import built, or build a second schema to check the console's documents against."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from api.cli.main import _graphql_schema
from api.settings import Environment, Settings

ROOT = Path(__file__).resolve().parents[2]


def _run(code: str) -> Any:
    """The JSON the code prints, run in a fresh interpreter (this one has imported everything already)."""
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_app_and_its_jobs_start_without_an_http_client_a_jwt_library_or_the_rules_parser() -> None:
    loaded = _run(
        "import json, sys\n"
        "import api.entry, api.cli.main, api.app\n"
        "from api.settings import Settings\n"
        "from api.services.dispatcher import from_settings\n"
        "from domain.rules import language\n"
        "app = api.app.create_app(Settings(), database_url='postgresql+asyncpg://nobody@127.0.0.1:1/none')\n"
        "dispatcher = from_settings(None, Settings())  # what the lifespan starts\n"
        "heavy = ('httpx', 'httpcore', 'jwt', 'cryptography')\n"
        "print(json.dumps({'modules': sorted(m for m in heavy if m in sys.modules),\n"
        "                  'parsers': language._parser.cache_info().currsize}))\n"
    )
    assert loaded == {"modules": [], "parsers": 0}


def test_the_first_rule_parsed_builds_the_parser_and_loads_what_verifying_a_jwt_needs_on_first_use() -> None:
    loaded = _run(
        "import json, sys\n"
        "from domain.rules.language import parse_rule, _parser\n"
        "from authz.oidc import OidcError, verify_jwt\n"
        'parse_rule(\'rule "r" on report.created in US policy SPAM when true then label("x")\')\n'
        "try:\n"
        "    verify_jwt('a.b.c', issuer='i', audience='a', algorithms=['RS256'], keys={})\n"
        "except OidcError as error:\n"
        "    problem = error.problem.name\n"
        "print(json.dumps({'parsers': _parser.cache_info().currsize, 'jwt': 'jwt' in sys.modules,\n"
        "                  'problem': problem}))\n"
    )
    assert loaded == {"parsers": 1, "jwt": True, "problem": "MALFORMED"}


def test_the_entry_point_freezes_what_the_cli_import_built_before_the_collector_resumes() -> None:
    seen = _run(
        "import gc, json\n"
        "import api.entry, api.cli.main as cli\n"
        "seen = {}\n"
        "cli.main = lambda: seen.update(enabled=gc.isenabled(), frozen=gc.get_freeze_count())\n"
        "api.entry.main()\n"
        "print(json.dumps(seen))\n"
    )
    assert seen["enabled"] is True
    assert seen["frozen"] > 50_000  # the CLI's modules, tables and types: no collection walks them again


def test_serve_checks_the_console_documents_against_the_schema_its_app_serves() -> None:
    from api.app import VigilGraphQL, create_app

    app = create_app(Settings(env=Environment.TEST), database_url="postgresql+asyncpg://nobody@127.0.0.1:1/none")
    endpoints = [e for e in (getattr(route, "endpoint", None) for route in app.routes) if isinstance(e, VigilGraphQL)]
    assert len(endpoints) == 1
    schema = _graphql_schema(app)
    assert schema is endpoints[0].schema
    assert callable(getattr(schema, "validate_document", None))
    assert _graphql_schema(None) is None  # several workers: no app in serve, the documents get a schema of their own
