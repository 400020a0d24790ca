"""The base of the system actors' request objects (airs.osl), apart from
airs.osl so that the sending path (airs._outbound) can recognise them
without importing the subpackage."""


class Request:
    """Base of the system actors' request objects. ``_airs_msg()`` builds
    a fresh request message, owned by the caller until a send consumes
    it; :meth:`airs.Actor.request` and :meth:`airs.Runtime.call` send it
    as it is (no codec, no reference)."""

    __slots__ = ()

    def _airs_msg(self) -> int:
        raise NotImplementedError
