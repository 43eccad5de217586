"""``python manage.py run_embedded``: the embedded first run behind ``make run``.

Starts the local sandboxes of the outside systems (when their apps provide them, see
``settings.EMBEDDED_SANDBOXES``) as child processes, prints the address and the login, and
serves the app with Django's server until Ctrl-C.
"""

import signal
import subprocess
import sys

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Serve flexbridge on the embedded default, with the sandboxes of outside systems."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--no-sandboxes", action="store_true")

    def handle(self, *args, host, port, no_sandboxes, **options):
        children = []
        if not no_sandboxes:
            for name, sandbox_port in getattr(settings, "EMBEDDED_SANDBOXES", {}).items():
                children.append(
                    subprocess.Popen(  # noqa: S603 - our own manage.py, fixed arguments
                        [sys.executable, "manage.py", "sandbox", name, "--port", str(sandbox_port)]
                    )
                )
                self.stdout.write(f"Sandbox {name}: http://127.0.0.1:{sandbox_port}/")
        password_file = settings.BASE_DIR / ".demo_password"
        password = password_file.read_text().strip() if password_file.exists() else "?"
        self.stdout.write(self.style.SUCCESS(f"flexbridge: http://{host}:{port}/"))
        self.stdout.write(f"Log in as: admin / {password}")
        # Stopping the server (Ctrl-C or SIGTERM) stops the sandboxes too.
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        try:
            call_command("runserver", f"{host}:{port}", use_reloader=False)
        finally:
            for child in children:
                child.terminate()
