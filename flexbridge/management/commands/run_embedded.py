"""``python manage.py run_embedded``: the embedded first run behind ``make run``.

Serves the app with Django's server and, beside it, a real Celery worker and beat, so no
job runs inside a web request, progress bars move while a job runs and the nightly
schedules run. Without ``REDIS_URL`` the three pass tasks through files
(kombu's filesystem transport in ``settings.EMBEDDED_BROKER_DIR``): nothing to install but
Python. Jobs that were queued while nothing ran, or interrupted by the last stop, are
enqueued again before the worker starts. The local sandboxes of the outside systems
(``settings.EMBEDDED_SANDBOXES``) start as child processes too. Ctrl-C stops everything.
"""

import os
import shutil
import signal
import subprocess
import sys

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from jobs.services import jobs_requeue_unfinished


class Command(BaseCommand):
    help = "Serve flexbridge on the embedded default, with a worker, beat and the sandboxes."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--no-sandboxes", action="store_true")
        parser.add_argument(
            "--concurrency", type=int, default=4, help="Jobs the worker runs at the same time."
        )

    def handle(self, *args, host, port, no_sandboxes, concurrency, **options):
        if not settings.REDIS_URL and not settings.EMBEDDED_WORKER:
            # Settings are read once per process: start again with the embedded broker on,
            # so this process (the web server) enqueues to the worker instead of running
            # tasks in-process.
            env = {**os.environ, "EMBEDDED_WORKER": "1"}
            os.execve(sys.executable, [sys.executable, *sys.argv], env)  # noqa: S606
        children: list[subprocess.Popen] = []
        # Stopping the server (Ctrl-C or SIGTERM) stops the worker, beat and sandboxes too.
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        try:
            if not no_sandboxes:
                for name, sandbox_port in getattr(settings, "EMBEDDED_SANDBOXES", {}).items():
                    children.append(
                        self._start("manage.py", "sandbox", name, "--port", sandbox_port)
                    )
                    self.stdout.write(f"Sandbox {name}: http://127.0.0.1:{sandbox_port}/")
            if not settings.REDIS_URL:
                self._prepare_broker()
            children.append(self._start_celery("worker", concurrency=concurrency))
            children.append(self._start_celery("beat"))
            password_file = settings.BASE_DIR / ".demo_password"
            password = password_file.read_text().strip() if password_file.exists() else "?"
            self.stdout.write(self.style.SUCCESS(f"flexbridge: http://{host}:{port}/"))
            self.stdout.write(f"Log in as: admin / {password}")
            call_command("runserver", f"{host}:{port}", use_reloader=False)
        finally:
            for child in children:
                child.terminate()
            for child in children:
                try:
                    child.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    child.kill()

    def _start(self, *command) -> subprocess.Popen:
        return subprocess.Popen(  # noqa: S603 - our own programs, fixed arguments
            [sys.executable, *(str(part) for part in command)], cwd=settings.BASE_DIR
        )

    def _start_celery(self, role: str, *, concurrency: int = 1) -> subprocess.Popen:
        base = ["-m", "celery", "-A", "flexbridge", role, "--loglevel=INFO"]
        if role == "worker":
            # Threads: several jobs at once in one process (the jobs wait on HTTP and the
            # database, not on the CPU). Gossip, mingle and heartbeats need a real broker.
            return self._start(
                *base,
                "--pool=threads",
                f"--concurrency={concurrency}",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
            )
        schedule = settings.EMBEDDED_BROKER_DIR.parent / "celerybeat-schedule"
        schedule.parent.mkdir(parents=True, exist_ok=True)
        return self._start(*base, "--schedule", schedule)

    def _prepare_broker(self) -> None:
        """Empty the broker folder and enqueue every unfinished job once, from the database.

        The database is the truth about which jobs are left; files from the last run would
        deliver some of them a second time.
        """
        shutil.rmtree(settings.EMBEDDED_BROKER_DIR, ignore_errors=True)
        for folder in ("queue", "control"):
            (settings.EMBEDDED_BROKER_DIR / folder).mkdir(parents=True, exist_ok=True)
        requeued = jobs_requeue_unfinished()
        if requeued:
            self.stdout.write(f"Jobs queued again: {', '.join(map(str, requeued))}")
