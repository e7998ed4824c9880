"""Real races for tests on PostgreSQL: threads released together by a barrier."""

import threading

from django.db import connections


def run_together(n, work):
    """Run work(i) in n threads started at the same instant; return results and errors."""
    barrier = threading.Barrier(n)
    results, errors = [None] * n, []

    def target(i):
        try:
            barrier.wait()
            results[i] = work(i)
        except Exception as exc:  # collected and asserted on by the caller
            errors.append(exc)
        finally:
            connections.close_all()  # each thread opened its own connection

    threads = [threading.Thread(target=target, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results, errors
