"""The dispatch's sender threads: each sends to Kivra as soon as it is free."""

from __future__ import annotations

import queue
import threading

from integrations.clients.kivra import KivraClient

from .deliveries import Channel
from .planning import _Item


class _Senders:
    """``count`` threads that take ``(item, body)`` from ``work`` and send it to Kivra, each
    on its own as soon as it is free, and put ``(item, result, error)`` on ``answers``. The
    dispatching thread only keeps ``work`` stocked and writes the answers, so a sender never
    waits for it between two requests."""

    def __init__(self, *, client: KivraClient, count: int) -> None:
        self.client = client
        # Each sender on its own connection, all with the client's token.
        self.clients = [client.with_own_pool() for _n in range(count)]
        self.work: queue.SimpleQueue = queue.SimpleQueue()
        self.answers: queue.SimpleQueue = queue.SimpleQueue()
        self.outstanding = 0  # put on ``work`` and not answered yet
        self.threads = [
            threading.Thread(target=self._run, args=(own,), name=f"kivra-{n}", daemon=True)
            for n, own in enumerate(self.clients)
        ]
        for thread in self.threads:
            thread.start()

    def _run(self, client: KivraClient) -> None:
        while (task := self.work.get()) is not None:
            item, body = task
            try:
                for_print = item.delivery.channel == Channel.KIVRA_PRINT
                self.answers.put((item, client.content_send(body, for_print=for_print), None))
            except Exception as error:  # the dispatching thread logs or raises it
                self.answers.put((item, None, error))

    def put(self, item: _Item, body: bytes) -> None:
        self.outstanding += 1
        self.work.put((item, body))

    def take_back(self) -> int:
        """Take the bodies no sender has started (claimed, not sent: the next dispatch sends
        their stored bytes). Returns how many."""
        taken = 0
        while True:
            try:
                self.work.get_nowait()
            except queue.Empty:
                break
            taken += 1
        self.outstanding -= taken
        return taken

    def answered(self, *, timeout: float) -> list[tuple]:
        """The answers that have arrived: waits up to ``timeout`` for the first."""
        try:
            answers = [self.answers.get(timeout=timeout)]
        except queue.Empty:
            return []
        while True:
            try:
                answers.append(self.answers.get_nowait())
            except queue.Empty:
                break
        self.outstanding -= len(answers)
        return answers

    def alive(self) -> bool:
        return any(thread.is_alive() for thread in self.threads)

    def stop(self) -> None:
        self.take_back()
        for _thread in self.threads:
            self.work.put(None)
        for thread in self.threads:
            thread.join()
        for own in self.clients:
            if own is not self.client:
                own.close()
