"""The AMQP 1.0 side: connections, links, CBS, ``$management`` and settlement, on proton's reactor.

Everything here runs on the reactor thread. It turns link events into :class:`Store` calls and
store results into transfers and dispositions, following what ``azure-servicebus`` 7.15 expects:

- SASL ANONYMOUS; the ``$cbs`` put-token request is answered 200 without checking the token
  (Microsoft's emulator does the same).
- Attach replies echo the client's source and target (the client detaches on a null one). A
  receiver or management link to an unknown entity is attached and immediately detached with
  ``amqp:not-found``; a sender's link stays attached and its first transfer is refused with it.
- Sender links advertise the Standard tier's 256 KB ``max-message-size``; a larger transfer is
  rejected with ``amqp:link:message-size-exceeded``.
- Deliveries are tagged with the lock token (UUID, ``bytes_le``). The client sends its
  settlement unsettled and waits for the broker to settle it echoing the outcome it applied;
  a settlement the broker cannot apply is answered ``rejected`` with the error condition.
"""

from __future__ import annotations

import functools
import logging
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from proton import Condition, Delivery, Endpoint, Event, Handler, Link, Message, Terminus, symbol

from emulators.servicebus import management
from emulators.servicebus.addresses import Node, NodeKind, classify
from emulators.servicebus.codec import MalformedMessage, parse_message, split_sections, unpack_batch
from emulators.servicebus.errors import BrokerError, InvalidRequest, MessageSizeExceeded, NotAllowed
from emulators.servicebus.outgoing import render
from emulators.servicebus.store import IncomingMessage, MessageQueue, Outcome, Store

MAX_MESSAGE_SIZE = 256 * 1024  # Standard tier: 256 KB per message, and per batch.
LINK_CREDIT = 500
TICK_SECONDS = 0.1
_log = logging.getLogger(__name__)


@dataclass(eq=False)
class LinkContext:
    """What the broker knows about one attached link (kept in proton's per-link record)."""

    link: Any
    node: Node
    queue: MessageQueue | None = None
    peek_lock: bool = True
    pending_replies: list[bytes] = field(default_factory=list)
    closed: bool = False
    refusal: BrokerError | None = None


class _Tick(Handler):
    def __init__(self, callback: Callable[[Event], None]) -> None:
        super().__init__()
        self._callback = callback

    def on_timer_task(self, event: Any) -> None:
        self._callback(event)


def _context(link: Any) -> LinkContext | None:
    try:
        context = link.sb_context
    except AttributeError:
        return None
    return context if isinstance(context, LinkContext) else None


class Broker(Handler):
    """A proton reactor handler serving one namespace from a :class:`Store`."""

    def __init__(self, store: Store, host: str, port: int, on_ready: Callable[[int], None] | None = None) -> None:
        super().__init__()
        self.store = store
        self.host = host
        self.port = port
        self._on_ready = on_ready
        self._consumers: dict[MessageQueue, list[LinkContext]] = {}
        self._acceptor: Any = None
        self._connections: list[Any] = []
        self._stopping = False
        self.stop_requested = threading.Event()

    # ----- lifecycle ----------------------------------------------------------------------

    def on_reactor_init(self, event: Any) -> None:
        self._acceptor = event.container.listen(f"{self.host}:{self.port}")
        if self.port == 0:
            self.port = _bound_port(self._acceptor)
        event.container.schedule(TICK_SECONDS, _Tick(self._on_tick))
        if self._on_ready is not None:
            self._on_ready(self.port)

    def _on_tick(self, event: Any) -> None:
        if self._stopping:
            return
        if self.stop_requested.is_set():
            self._stop(event.container)
            return
        try:
            self.store.tick()
            self._pump_ready()
        except Exception:  # a tick must never stop the broker
            _log.exception("periodic work failed")
        event.container.schedule(TICK_SECONDS, _Tick(self._on_tick))

    def _stop(self, container: Any) -> None:
        """Close the listener and every connection (on the reactor thread), then end the reactor."""
        self._stopping = True
        if self._acceptor is not None:
            self._acceptor.close()
        for connection in self._connections:
            if connection.state & Endpoint.LOCAL_ACTIVE:
                connection.close()
            transport = connection.transport
            if transport is not None:
                transport.close_tail()
                transport.close_head()
        self._connections.clear()
        container.stop()

    def on_connection_bound(self, event: Any) -> None:
        sasl = event.transport.sasl()
        sasl.allowed_mechs("ANONYMOUS")
        event.transport.idle_timeout = 0

    def on_connection_remote_open(self, event: Any) -> None:
        connection = event.connection
        if connection.state & Endpoint.LOCAL_UNINIT:
            connection.container = "sbemulatorns"
            connection.open()
            self._connections.append(connection)

    def on_session_remote_open(self, event: Any) -> None:
        if event.session.state & Endpoint.LOCAL_UNINIT:
            event.session.open()

    def on_session_remote_close(self, event: Any) -> None:
        if event.session.state & Endpoint.LOCAL_ACTIVE:
            event.session.close()

    def on_connection_remote_close(self, event: Any) -> None:
        self._forget_connection(event.connection)
        if event.connection.state & Endpoint.LOCAL_ACTIVE:
            event.connection.close()

    def on_transport_closed(self, event: Any) -> None:
        if event.connection is not None:
            self._forget_connection(event.connection)

    def _forget_connection(self, connection: Any) -> None:
        if connection in self._connections:
            self._connections.remove(connection)
        link = connection.link_head(0)
        while link is not None:
            self._forget_link(link)
            link = link.next(0)

    def _forget_link(self, link: Any) -> None:
        context = _context(link)
        if context is None or context.closed:
            return
        context.closed = True
        if context.queue is not None and link.is_sender:
            consumers = self._consumers.get(context.queue, [])
            if context in consumers:
                consumers.remove(context)

    # ----- attach / detach ----------------------------------------------------------------

    def on_link_remote_open(self, event: Any) -> None:
        link = event.link
        if not link.state & Endpoint.LOCAL_UNINIT:
            return
        address = link.remote_source.address if link.is_sender else link.remote_target.address
        node = classify(address)
        link.source.copy(link.remote_source)
        link.target.copy(link.remote_target)
        link.snd_settle_mode = link.remote_snd_settle_mode
        link.rcv_settle_mode = link.remote_rcv_settle_mode
        context = LinkContext(link=link, node=node)
        link.sb_context = context
        error: BrokerError | None = None
        if node.kind == NodeKind.ENTITY:
            try:
                if link.is_sender:
                    if _asks_for_a_session(link):
                        raise NotAllowed(
                            f"Sessions are not supported by this emulator (receiver on '{node.entity_path}')."
                        )
                    context.queue = self.store.source(node.entity_path)
                    context.peek_lock = link.remote_snd_settle_mode != Link.SND_SETTLED
                else:
                    self.store.send_target(node.entity_path)
                    link.max_message_size = MAX_MESSAGE_SIZE
            except BrokerError as refused:
                error = refused
        elif node.kind == NodeKind.MANAGEMENT:
            try:
                self.store.source(node.entity_path)
            except BrokerError:
                try:
                    self.store.send_target(node.entity_path)
                except BrokerError as refused:
                    error = refused
        if link.is_sender and link.remote_source.dynamic:
            link.source.address = str(uuid.uuid4())
        if link.is_sender and not link.is_receiver and link.source.type == Terminus.UNSPECIFIED:
            link.source.type = Terminus.SOURCE
        link.open()
        if error is not None and node.kind == NodeKind.ENTITY and link.is_receiver:
            # The client sends its first transfer before it reads a detach that follows the
            # attach, and then reports an unknown error. Refusing that transfer with the
            # condition first makes it raise MessagingEntityNotFoundError, as against Azure.
            context.refusal = error
            link.flow(LINK_CREDIT)
            return
        if error is not None:
            context.closed = True
            link.condition = _condition(error)
            link.close()
            return
        if link.is_receiver:
            link.flow(LINK_CREDIT)
        elif context.queue is not None:
            self._consumers.setdefault(context.queue, []).append(context)

    def on_link_remote_close(self, event: Any) -> None:
        link = event.link
        self._forget_link(link)
        if link.state & Endpoint.LOCAL_ACTIVE:
            link.close()

    # ----- flow ---------------------------------------------------------------------------

    def on_link_flow(self, event: Any) -> None:
        link = event.link
        context = _context(link)
        if context is None or not link.is_sender:
            return
        if context.pending_replies:
            self._flush_replies(context)
        if context.queue is not None:
            self._pump(context.queue)
            if link.drain_mode and link.credit > 0:
                link.drained()

    def _pump_ready(self) -> None:
        while self.store.ready:
            queue = self.store.ready.pop()
            self._pump(queue)

    def _pump(self, queue: MessageQueue) -> None:
        """Hand available messages to this queue's receivers, round-robin over links with credit."""
        consumers = self._consumers.get(queue)
        if not consumers:
            return
        while True:
            ready = [c for c in consumers if not c.closed and c.link.credit > 0]
            if not ready:
                return
            delivered = False
            for context in ready:
                message = self.store.receive(queue, peek_lock=context.peek_lock)
                if message is None:
                    return
                if context.peek_lock and message.lock_token is not None:
                    tag = message.lock_token.bytes_le
                else:
                    tag = uuid.uuid4().bytes_le
                link = context.link
                delivery = link.delivery(tag)
                delivery.sb_lock_token = message.lock_token
                link.send(render(message, locked=context.peek_lock))
                link.advance()
                if not context.peek_lock:
                    delivery.settle()
                delivered = True
            if not delivered:
                return

    # ----- incoming deliveries ------------------------------------------------------------

    def on_delivery(self, event: Any) -> None:
        delivery = event.delivery
        link = event.link
        context = _context(link)
        if context is None:
            return
        try:
            if link.is_receiver:
                self._on_transfer(context, delivery)
            else:
                self._on_settlement(context, delivery)
        finally:
            self._pump_ready()

    def _on_transfer(self, context: LinkContext, delivery: Any) -> None:
        link = context.link
        if delivery.aborted:  # the sender gave up half way: nothing to keep
            link.advance()
            delivery.settle()
            return
        if delivery.partial or not delivery.readable:
            return
        payload = link.recv(delivery.pending) or b""
        link.advance()
        if link.credit < LINK_CREDIT // 2:
            link.flow(LINK_CREDIT - link.credit)
        if context.node.kind == NodeKind.ENTITY:
            self._accept_messages(context, delivery, payload)
            return
        if context.node.kind == NodeKind.CBS:
            run: Callable[[Message], management.Reply] = self._cbs
        else:
            entity = context.node.entity_path
            run = lambda request: management.handle(self.store, entity, request)  # noqa: E731
        try:
            self._answer(context, payload, run)
        except BrokerError as error:
            delivery.local.condition = _condition(error)
            delivery.update(Delivery.REJECTED)
        else:
            delivery.update(Delivery.ACCEPTED)
        delivery.settle()

    def _accept_messages(self, context: LinkContext, delivery: Any, payload: bytes) -> None:
        if context.refusal is not None:
            delivery.local.condition = _condition(context.refusal)
            delivery.update(Delivery.REJECTED)
            delivery.settle()
            context.link.condition = _condition(context.refusal)
            context.link.close()
            context.closed = True
            return
        try:
            inner = unpack_batch(payload) or [payload]
            # The limit covers the messages, not the batch envelope around them: the client fills
            # a batch up to exactly 256 KB of messages and Service Bus accepts it.
            size = sum(len(encoded) for encoded in inner)
            if size > MAX_MESSAGE_SIZE:
                raise MessageSizeExceeded(
                    f"The received message (size: {size} bytes) exceeds the limit ({MAX_MESSAGE_SIZE} bytes) "
                    "currently allowed on the link."
                )
            messages = []
            for encoded in inner:
                try:
                    stored, facts = parse_message(encoded)
                except MalformedMessage as error:
                    raise InvalidRequest(str(error)) from None
                messages.append(IncomingMessage(stored, facts))
            self.store.send(context.node.entity_path, messages)
        except BrokerError as error:
            delivery.local.condition = _condition(error)
            delivery.update(Delivery.REJECTED)
        else:
            delivery.update(Delivery.ACCEPTED)
        delivery.settle()

    def _cbs(self, request: Message) -> management.Reply:
        return management.Reply(200, "OK")

    def _answer(self, context: LinkContext, payload: bytes, run: Callable[[Message], management.Reply]) -> None:
        request = Message()
        try:
            split_sections(payload)  # strict: proton's decoder accepts some truncated messages
            request.decode(payload)
        except Exception as error:  # proton raises several types for bad bytes
            raise InvalidRequest(f"The request on {context.node.address} is not an AMQP message: {error}") from None
        try:
            reply = run(request)
        except Exception as error:  # a bug in one operation must not take the broker down
            _log.exception("management operation failed")
            reply = management.Reply(500, f"Internal error: {error}", condition="amqp:internal-error")
        encoded = management.encode_reply(reply, request.id, cbs=context.node.kind == NodeKind.CBS)
        reply_link = self._reply_link(context, request.reply_to)
        if reply_link is None:
            _log.info("no reply link for %s", context.node.address)
            return
        reply_link.pending_replies.append(encoded)
        self._flush_replies(reply_link)

    def _reply_link(self, context: LinkContext, reply_to: str | None) -> LinkContext | None:
        wanted = {context.node.address.lower()}
        if reply_to:
            wanted.add(reply_to.lower())
        session = context.link.session
        link = session.connection.link_head(Endpoint.LOCAL_ACTIVE)
        fallback: LinkContext | None = None
        while link is not None:
            candidate = _context(link)
            if candidate is not None and link.is_sender and not candidate.closed:
                target = (link.remote_target.address or "").lower()
                source = (link.remote_source.address or "").lower()
                if target in wanted or source in wanted:
                    if link.session == session:
                        return candidate
                    fallback = fallback or candidate
            link = link.next(Endpoint.LOCAL_ACTIVE)
        return fallback

    def _flush_replies(self, context: LinkContext) -> None:
        link = context.link
        while context.pending_replies and link.credit > 0:
            payload = context.pending_replies.pop(0)
            delivery = link.delivery(uuid.uuid4().bytes)
            link.send(payload)
            link.advance()
            delivery.settle()

    # ----- settlement ---------------------------------------------------------------------

    def _on_settlement(self, context: LinkContext, delivery: Any) -> None:
        if not delivery.updated:
            return
        state = delivery.remote_state
        if state not in (Delivery.ACCEPTED, Delivery.MODIFIED, Delivery.REJECTED, Delivery.RELEASED):
            return
        try:
            token = delivery.sb_lock_token  # proton decodes tags as UTF-8, so the token is kept beside it
        except AttributeError:
            token = None
        if not isinstance(token, uuid.UUID):
            delivery.settle()
            return
        reason = description = None
        if state == Delivery.ACCEPTED:
            outcome = Outcome.COMPLETE
        elif state == Delivery.RELEASED:
            outcome = Outcome.RELEASE
        elif state == Delivery.MODIFIED:
            outcome = Outcome.DEFER if delivery.remote.undeliverable else Outcome.ABANDON
        else:
            outcome = Outcome.DEAD_LETTER
            condition = delivery.remote.condition
            info = dict(condition.info or {}) if condition is not None else {}
            named = {str(key): value for key, value in info.items()}
            reason = _optional_text(named.get("DeadLetterReason"))
            description = _optional_text(named.get("DeadLetterErrorDescription"))
            if description is None and condition is not None:
                description = _optional_text(condition.description)
        try:
            self.store.settle(token, outcome, reason=reason, description=description)
        except BrokerError as error:
            delivery.local.condition = _condition(error)
            delivery.update(Delivery.REJECTED)
        else:
            if state == Delivery.MODIFIED:
                delivery.local.failed = delivery.remote.failed
                delivery.local.undeliverable = delivery.remote.undeliverable
            delivery.update(state)
        delivery.settle()


def _guarded(method: Callable[[Broker, Any], None]) -> Callable[[Broker, Any], None]:
    """Keep the reactor alive whatever one event does: log, refuse the delivery at hand, carry on.

    An exception escaping a proton handler ends ``Container.run`` and with it every connection.
    """

    @functools.wraps(method)
    def guarded(self: Broker, event: Any) -> None:
        try:
            method(self, event)
        except Exception as error:
            _log.exception("handling %s failed", event.type)
            delivery = getattr(event, "delivery", None)
            if delivery is not None and not delivery.settled:
                delivery.local.condition = _condition(BrokerError(f"The emulator failed: {error}"))
                delivery.update(Delivery.REJECTED)
                delivery.settle()

    return guarded


for _name, _method in list(vars(Broker).items()):
    if _name.startswith("on_") and callable(_method):
        setattr(Broker, _name, _guarded(_method))


def _asks_for_a_session(link: Any) -> bool:
    """Session receivers put ``com.microsoft:session-filter`` in the source's filter map."""
    filters = link.remote_source.filter
    filters.rewind()
    if not filters.next():
        return False
    value = filters.get_object()
    return isinstance(value, dict) and any("session-filter" in str(key) for key in value)


def _condition(error: BrokerError) -> Condition:
    """An AMQP error as Service Bus sends it: with an info map (the client indexes into it)."""
    return Condition(error.condition, error.description, {symbol("com.microsoft:tracking-id"): str(uuid.uuid4())})


def _optional_text(value: object) -> str | None:
    return None if value is None else str(value)


def _bound_port(acceptor: Any) -> int:
    sock = acceptor._selectable._delegate  # proton keeps the listening socket here
    return int(sock.getsockname()[1])
