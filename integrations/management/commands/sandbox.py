"""``python manage.py sandbox NAME --port N``: serve an outside system's sandbox."""

import importlib
import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from integrations.sandboxes.base import SANDBOXES


def _options(value: str) -> dict:
    """``--options`` as a JSON object, or ``@path`` to a file holding one (big user sets)."""
    text = Path(value[1:]).read_text() if value.startswith("@") else value
    try:
        options = json.loads(text)
    except ValueError as exc:
        raise CommandError(f"--options is not JSON: {exc}") from exc
    if not isinstance(options, dict):
        raise CommandError("--options must be a JSON object")
    return options


class Command(BaseCommand):
    help = "Serve the local sandbox of an outside system (kivra, visma, payroll)."

    def add_arguments(self, parser):
        parser.add_argument("name", choices=sorted(SANDBOXES))
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, required=True)
        parser.add_argument("--latency-ms", type=float, default=0)
        parser.add_argument(
            "--options",
            default="{}",
            help='sandbox options as JSON (e.g. \'{"users": ["19800101..."]}\') or @file',
        )

    def handle(self, *args, name, host, port, latency_ms, options, **kwargs):
        module_name, class_name = SANDBOXES[name].split(":")
        try:
            sandbox_class = getattr(importlib.import_module(module_name), class_name)
        except (ImportError, AttributeError) as exc:
            raise CommandError(f"The {name} sandbox is not available: {exc}") from exc
        sandbox = sandbox_class(**{**_options(options), "latency_ms": latency_ms})
        server = sandbox.make_server(host, port)
        self.stdout.write(f"{name} sandbox on http://{host}:{port}/ (state: /_sandbox/state)")
        self.stdout.flush()
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.server_close()
