"""A pykka-style face for users who come from pykka: actor refs with
``tell`` and ``ask``, and proxies that call an actor's methods.

It is a thin layer over the runtime; nothing here changes how actors
run (one message at a time, on the runtime's workers)::

    from airs.pykka_style import ActorRef

    class Greeter(airs.Actor):
        def receive(self, message):
            if message == "hi":
                self.reply("hello")

        def greet(self, name):          # callable through a proxy
            return f"hello, {name}"

    with airs.Runtime() as rt:
        ref = ActorRef.start(rt, Greeter)
        ref.tell("hi")                            # no reply wanted
        ref.ask("hi")                             # "hello" (blocks)
        future = ref.ask("hi", block=False)       # concurrent.futures
        ref.proxy().greet("ann").result()         # "hello, ann"
        ref.stop()

Where it differs from pykka: ``ask`` goes to ``receive`` as a request
(answer with ``self.reply``), and a proxy's futures are
``concurrent.futures.Future`` (``.result()``, not pykka's ``.get()``).
A proxy call runs the method inside the actor, as a message, in order
with everything else it receives; what it returns (or raises) resolves
the future.
"""
import concurrent.futures

from . import _blocking
from .actor import Actor

DEFAULT_TIMEOUT_MS = 5000


class _ProxyCall:
    """The message a proxy sends: call `name` with these arguments and
    reply with ("ok", result) or ("error", exception)."""

    __slots__ = ("name", "args", "kwargs")

    def __init__(self, name, args, kwargs):
        self.name, self.args, self.kwargs = name, args, kwargs


def answer_proxy_call(actor, call):
    """[inside receive] Runs a proxy call on `actor` and replies. Called
    by the dispatch for every :class:`_ProxyCall` before receive."""
    if call.name.startswith("_"):
        result = ("error", AttributeError(
            f"{type(actor).__name__}.{call.name} is private: not callable "
            f"through a proxy"))
    else:
        try:
            method = getattr(actor, call.name)
            result = ("ok", method(*call.args, **call.kwargs))
        except Exception as e:  # handed to the caller, as pykka does
            result = ("error", e)
    actor.reply(result)


class ActorRef:
    """A handle to the actor `pid` of `runtime`, usable from any thread
    that is not inside an actor callback (asks wait)."""

    def __init__(self, runtime, pid):
        self.runtime = runtime
        self.pid = pid

    @classmethod
    def start(cls, runtime, factory, *args, **kwargs):
        """Spawns ``factory(*args, **kwargs)`` and returns its ref."""
        return cls(runtime, runtime.spawn(factory, args, kwargs))

    def tell(self, message):
        """Sends `message`; nothing comes back."""
        self.runtime.send(self.pid, message)

    def ask(self, message, block=True, timeout=None):
        """Sends `message` as a request. block=True: waits for the reply
        and returns it (TimeoutError after `timeout` seconds, default 5);
        block=False: returns a concurrent.futures.Future of it."""
        timeout_ms = (DEFAULT_TIMEOUT_MS if timeout is None
                      else max(1, int(timeout * 1000)))
        if block:
            return self.runtime.call(self.pid, message, timeout_ms)
        return _blocking.submit(self.runtime.call, self.pid, message,
                                timeout_ms)

    def proxy(self):
        """An :class:`ActorProxy` of the actor's public methods."""
        return ActorProxy(self)

    def stop(self, timeout=None):
        """Stops the actor (a shutdown exit) and waits for its end."""
        self.runtime.stop(self.pid)
        self.runtime.wait(self.pid, DEFAULT_TIMEOUT_MS if timeout is None
                          else max(1, int(timeout * 1000)))

    def is_alive(self):
        return self.runtime.is_alive(self.pid)

    def __eq__(self, other):
        return (isinstance(other, ActorRef) and other.pid == self.pid
                and other.runtime is self.runtime)

    def __hash__(self):
        return hash(self.pid)

    def __repr__(self):
        return f"<ActorRef {self.pid!r}>"


class ActorProxy:
    """``proxy.method(*args)`` sends the call to the actor and returns a
    concurrent.futures.Future of what the method returns (or raises)."""

    def __init__(self, ref, timeout_ms=DEFAULT_TIMEOUT_MS):
        self._ref = ref
        self._timeout_ms = timeout_ms

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        ref, timeout_ms = self._ref, self._timeout_ms

        def call(*args, **kwargs):
            future = _blocking.submit(ref.runtime.call, ref.pid,
                                      _ProxyCall(name, args, kwargs),
                                      timeout_ms)
            return _unwrap(future)

        call.__name__ = name
        return call

    def __repr__(self):
        return f"<ActorProxy of {self._ref!r}>"


def _unwrap(future):
    """A future of the method's result from a future of ("ok", value) /
    ("error", exception)."""
    out = concurrent.futures.Future()

    def done(f):
        if f.exception() is not None:
            out.set_exception(f.exception())
            return
        kind, value = f.result()
        if kind == "ok":
            out.set_result(value)
        else:
            out.set_exception(value)

    future.add_done_callback(done)
    return out


__all__ = ["ActorProxy", "ActorRef"]
