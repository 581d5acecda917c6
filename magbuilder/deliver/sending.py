"""The send loop of a campaign: one or more SMTP connections, one queue, one rate, one ledger.

Each connection is a thread with its own :class:`Mailer`; they take recipients from one queue
(due retries first, then the list in order), keep to one rate limit between them, and record
every outcome in the one ledger before taking the next recipient. So at most one message per
connection is in flight at any moment, and a run killed at any point leaves at most that many
recipients in doubt, never one sent twice.

The main thread only supervises: it owns the signals. A first Ctrl-C or SIGTERM lets every
connection finish (and record) the message in hand; a second one abandons them at once
(:meth:`Mailer.abandon`), a message whose data had started to go out recorded in doubt.
"""

from __future__ import annotations

import datetime as dt
import functools
import heapq
import itertools
import logging
import signal
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from typing import TYPE_CHECKING, TextIO

from .ledger import Ledger
from .messages import CampaignContent
from .progress import Progress
from .smtp import Abandoned, Delivery, Mailer, SmtpFatalError
from .stopping import SLICE, STOP_SIGNALS, StopFlag, Stopped
from .subscribers import Subscriber, SubscriberList

if TYPE_CHECKING:
    from .campaign import SendOptions, SendResult

log = logging.getLogger(__name__)

REFUSAL_LIMIT = 10  # this many refusals in a row: the server refuses the message, not the people
STOPPED_IN_HAND = "the run was stopped while handing this message to the server"
NOT_AGAIN = "not sent again unless you ask (--resend-in-doubt)"


def retry_delay(attempts: int, options: SendOptions) -> float:
    """Back-off before the next try after ``attempts`` attempts: doubling, capped."""
    return min(options.retry_delay * 2 ** max(attempts - 1, 0), options.max_retry_delay)


class Pacer:
    """The run's one rate limit, shared by every connection: a slot every ``1/rate`` seconds."""

    def __init__(self, rate: float) -> None:
        self.pace = 1.0 / rate if rate > 0 else 0.0
        self._next = time.monotonic()
        self._lock = threading.Lock()

    def wait(self, stop: StopFlag) -> None:
        """Wait for this connection's next slot (raises Stopped when a stop is requested)."""
        if not self.pace:
            return
        with self._lock:
            now = time.monotonic()
            slot = max(self._next, now)
            self._next = slot + self.pace
        stop.sleep(slot - now)


class Queue:
    """Who is left to send to: retries when due (ordered by time), then the list in order.

    ``take`` hands a recipient to one connection only; ``done`` returns it (with a retry time)
    or settles it. The queue is empty for good only when nothing is left *and* no connection
    holds a message that may come back as a retry.
    """

    def __init__(self, pending: list[Subscriber], retries: list[tuple[float, Subscriber]]):
        self._pending = deque(pending)
        self._order = itertools.count()
        self._retries = [(due, next(self._order), s) for due, s in retries]
        heapq.heapify(self._retries)
        self._in_hand = 0
        self._halted = False
        self._announced = -1  # the retry whose wait was last shown
        self._ready = threading.Condition()

    def __len__(self) -> int:
        return len(self._pending) + len(self._retries)

    def halt(self) -> None:
        """Hand out nothing more (a stop, a fatal error)."""
        with self._ready:
            self._halted = True
            self._ready.notify_all()

    def take(self, stop: StopFlag, waiting: Callable[[float, int], None]) -> Subscriber | None:
        """The next recipient for this connection, or None when the run is over for it.

        While only retries are left, waits until the first is due (``waiting(seconds, count)``
        is told, to show it).
        """
        with self._ready:
            while not (self._halted or stop.arriving()):
                now = time.monotonic()
                if self._retries and (self._retries[0][0] <= now or not self._pending):
                    due = self._retries[0][0] - now
                    if due <= 0:
                        self._in_hand += 1
                        return heapq.heappop(self._retries)[2]
                    if self._announced != self._retries[0][1]:  # once per wait, not per slice
                        self._announced = self._retries[0][1]
                        waiting(due, len(self._retries))
                    self._ready.wait(min(due, SLICE))
                elif self._pending:
                    self._in_hand += 1
                    return self._pending.popleft()
                elif not self._in_hand:
                    return None
                else:  # another connection's message may come back as a retry
                    self._ready.wait(SLICE)
            return None

    def done(self, subscriber: Subscriber, retry_at: float | None = None) -> None:
        with self._ready:
            self._in_hand -= 1
            if retry_at is not None:
                heapq.heappush(self._retries, (retry_at, next(self._order), subscriber))
            self._ready.notify_all()


class Tally:
    """The run's counts, shared by the connections: states, attempts, refusals, progress."""

    def __init__(self, states: dict[str, str], attempts: dict[str, int], progress: Progress):
        self.states = states
        self.attempts = attempts
        self.counts = Counter(states.values())
        self.tries: Counter[str] = Counter()  # attempts in this run
        self.refusals_in_a_row = 0
        self.progress = progress
        self.lock = threading.Lock()

    def shown(self) -> dict[str, int]:
        shown = {state: self.counts[state] for state in ("sent", "failed", "refused")}
        if self.counts["in_doubt"]:
            shown["in doubt"] = self.counts["in_doubt"]
        return shown

    def finished(self) -> int:
        return self.counts["sent"] + self.counts["refused"] + self.counts["in_doubt"]

    def attempt(self, key: str) -> int:
        with self.lock:
            self.attempts[key] += 1
            return self.attempts[key]

    def record(self, key: str, state: str) -> None:
        with self.lock:
            self.counts[self.states[key]] -= 1
            self.counts[state] += 1
            self.states[key] = state
            if state == "refused":
                self.refusals_in_a_row += 1
            elif state == "sent":
                self.refusals_in_a_row = 0
            self.progress.update(self.shown(), self.finished(), processed=1)

    def waiting(self, seconds: float, count: int) -> None:
        with self.lock:
            note = f"waiting {seconds:.0f} s to retry {count}"
            self.progress.update(self.shown(), self.finished(), note=note, force=True)


class Connection(threading.Thread):
    """One SMTP connection's loop: take, pace, compose, hand over, record; until the queue ends."""

    def __init__(self, run: Run, number: int) -> None:
        super().__init__(name=f"smtp-{number}", daemon=True)
        self.run_ = run
        self.mailer = Mailer(run.options.smtp, sleep=run.stop.sleep)  # type: ignore[arg-type]
        self.error: BaseException | None = None
        self.finished = threading.Event()  # set as the thread's last act

    def run(self) -> None:
        # Signals go to the main thread, which owns them: the kernel may deliver a process's
        # signal to any thread that does not block it, and the main thread would then only see
        # it at the end of its wait, after this connection had taken another message.
        signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
        run = self.run_
        try:
            self.mailer.connect()
            while (subscriber := run.queue.take(run.stop, run.tally.waiting)) is not None:
                try:
                    retry_at = self._send(subscriber)
                except BaseException:
                    run.queue.done(subscriber)
                    raise
                run.queue.done(subscriber, retry_at)
        except (Stopped, Abandoned):
            pass
        except BaseException as exc:  # a fatal error (or a bug): the whole run stops
            self.error = exc
            run.queue.halt()
        finally:
            self.mailer.close()
            self.finished.set()

    def _send(self, subscriber: Subscriber) -> float | None:
        """One message, recorded; returns when to retry it (monotonic time) or None."""
        run, ledger, key = self.run_, self.run_.ledger, subscriber.key
        run.pacer.wait(run.stop)
        data = run.content.message(subscriber, campaign=run.number)
        edition = run.content.edition_of(subscriber)  # the one message() made: kept with the mark
        attempts = run.tally.attempt(key)
        try:
            outcome = self.mailer.send(
                run.content.sender,
                subscriber.email,
                data,
                handing_over=functools.partial(ledger.handing_over, key, edition),
            )
        except Abandoned:
            row = ledger.get(key)
            if row and row.in_flight:  # its data had started to go out: the server may have it
                ledger.mark_in_doubt(key, STOPPED_IN_HAND)
                log.warning("%s: in doubt: %s; %s", row.address, STOPPED_IN_HAND, NOT_AGAIN)
                run.tally.record(key, "in_doubt")
                run.abandoned_in_doubt = True
            run.abandoned = True
            raise
        except (SmtpFatalError, Stopped):
            # Raised only before the end of the data left (an in-doubt message is an
            # outcome): it cannot have arrived, and a run that stops here loses nothing.
            ledger.release(key)
            raise
        return self._record(subscriber, outcome, attempts)

    def _record(self, subscriber: Subscriber, outcome: Delivery, attempts: int) -> float | None:
        run, ledger, key = self.run_, self.run_.ledger, subscriber.key
        retry_at = None
        if outcome.status == "sent":
            ledger.mark_sent(key, outcome.reply)
            with run.tally.lock:
                run.sent_now += 1
        elif outcome.status == "refused":
            ledger.mark_refused(key, outcome.reply)
            log.warning("%s: refused: %s", subscriber.email, outcome.reply)
        elif outcome.status == "in_doubt":
            ledger.mark_in_doubt(key, outcome.reply)
            log.warning("%s: in doubt: %s; %s", subscriber.email, outcome.reply, NOT_AGAIN)
        else:
            delay = retry_delay(attempts, run.options)
            ledger.mark_failed(
                key, outcome.reply, dt.datetime.now(dt.UTC) + dt.timedelta(seconds=delay)
            )
            with run.tally.lock:
                run.tally.tries[key] += 1
                tries = run.tally.tries[key]
            if tries < run.options.max_attempts:
                retry_at = time.monotonic() + delay
                log.info("%s: %s; retrying in %.0f s", subscriber.email, outcome.reply, delay)
            else:
                with run.tally.lock:
                    run.retry_left += 1
                log.warning(
                    "%s: %s; giving up for this run after %d attempts",
                    subscriber.email,
                    outcome.reply,
                    tries,
                )
        state = "failed" if outcome.status == "transient" else outcome.status
        run.tally.record(key, state)
        if run.tally.refusals_in_a_row >= REFUSAL_LIMIT:
            raise SmtpFatalError(
                f"the server refused the last {REFUSAL_LIMIT} messages in a row (last: "
                f"{outcome.reply}): the server refuses the message, not the people"
            )
        return retry_at


class Run:
    """One run of a campaign: what the connections share."""

    def __init__(
        self,
        content: CampaignContent,
        options: SendOptions,
        ledger: Ledger,
        stop: StopFlag,
        queue: Queue,
        tally: Tally,
    ) -> None:
        self.content = content
        self.options = options
        self.ledger = ledger
        self.stop = stop
        self.queue = queue
        self.tally = tally
        self.pacer = Pacer(options.rate)
        self.number = ledger.campaign.number
        self.sent_now = 0
        self.retry_left = 0
        self.abandoned = False
        self.abandoned_in_doubt = False


def send_run(
    content: CampaignContent,
    subscribers: SubscriberList,
    options: SendOptions,
    ledger: Ledger,
    stop: StopFlag,
    result: SendResult,
    progress_stream: TextIO | None,
) -> None:
    """Send to everyone the ledger has left (due retries first), over ``options.connections``."""
    rows = {r.key: r for r in ledger.recipients()}
    states = {s.key: rows[s.key].state for s in subscribers.subscribers}
    if options.resend_in_doubt:  # to send again: pending for this run's counts and progress
        states = {key: "pending" if state == "in_doubt" else state for key, state in states.items()}
    pending, retries = [], []
    now_wall, now = dt.datetime.now(dt.UTC), time.monotonic()
    for subscriber in subscribers.subscribers:
        row = rows[subscriber.key]
        if row.state == "failed" and row.next_retry_at:
            wait = max(0.0, (row.next_retry_at - now_wall).total_seconds())
            retries.append((now + wait, subscriber))
        elif row.state in ("pending", "failed") or (
            row.state == "in_doubt" and options.resend_in_doubt
        ):
            pending.append(subscriber)
    queue = Queue(pending, retries)
    if not queue:
        in_doubt = Counter(states.values())["in_doubt"]
        if in_doubt:
            log.info(
                "campaign %d has nothing left to send, but %d in doubt (listed below)",
                ledger.campaign.number,
                in_doubt,
            )
        else:
            log.info("campaign %d is complete: nothing left to send", ledger.campaign.number)
        return
    assert options.smtp is not None
    connections = max(1, min(options.connections, len(queue)))
    log.info(
        "sending %d messages through %s%s, %s",
        len(queue),
        options.smtp.display,
        f" over {connections} connections" if connections > 1 else "",
        f"at most {options.rate:g} a second" if options.rate > 0 else "without a rate limit",
    )
    attempts = {s.key: rows[s.key].attempts for s in subscribers.subscribers}
    finished = Counter(states.values())
    progress = Progress(
        len(subscribers.subscribers),
        done=finished["sent"] + finished["refused"] + finished["in_doubt"],
        rate_limit=options.rate,
        stream=progress_stream,
        enabled=logging.getLogger("magbuilder").isEnabledFor(logging.INFO),
    )
    tally = Tally(states, attempts, progress)
    run = Run(content, options, ledger, stop, queue, tally)
    start = time.monotonic()
    try:
        _supervise(run, [Connection(run, n) for n in range(1, connections + 1)])
    finally:
        progress.finish()
        result.seconds = time.monotonic() - start
        result.sent_now = run.sent_now
        result.retry_left = run.retry_left
        result.abandoned = run.abandoned
        result.abandoned_in_doubt = run.abandoned_in_doubt
    if stop.requested:
        result.stopped_by = stop.signal.name if stop.signal else "SIGINT"


def _supervise(run: Run, connections: list[Connection]) -> None:
    """Start the connections and wait for them; a second signal abandons what they hold."""
    for connection in connections:
        connection.start()
    # Polled, not joined: a signal interrupting Thread.join can mark a running thread as
    # stopped (CPython's bpo-45274 handling), and the run would end with messages in hand.
    while not all(c.finished.is_set() for c in connections):
        try:
            time.sleep(SLICE)
        except KeyboardInterrupt:  # a second signal: the messages in hand are abandoned
            run.stop.request(run.stop.signal or signal.SIGINT)
            run.queue.halt()
            for connection in connections:
                connection.mailer.abandon()
    errors = [c.error for c in connections if c.error is not None]
    fatal = next((e for e in errors if isinstance(e, SmtpFatalError)), None)
    if fatal is not None:
        raise SmtpFatalError(
            f"{fatal}\nStopped after {run.sent_now} messages in this run; nothing is lost: "
            "fix this, then run the same command again to resume."
        )
    if errors:
        raise errors[0]
