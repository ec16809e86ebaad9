"""The zoo's client for pika, py-amqp and kombu (argv[1] selects which).

It provokes the fault named by $ZOO_FAULT (see zoo/README.md for the
protocol), prints READY when it is connected and waiting for the driver,
and ends with one JSON line: the exception as a traceback's last line
shows it (traceback.format_exception_only), its repr where str() is empty
or drops something, and what the library logged at WARNING and above.
"""
import json
import logging
import os
import socket
import sys
import time
import traceback

LIB = sys.argv[1]
ENV = os.environ
WAIT = int(ENV.get("ZOO_WAIT", "45"))
HEARTBEAT = int(ENV.get("ZOO_HEARTBEAT", "0") or 0)
notes = []


class Skip(Exception):
    pass


class Collect(logging.Handler):
    def __init__(self):
        super().__init__(logging.WARNING)
        self.lines = []

    def emit(self, record):
        try:
            msg = record.getMessage()
        except Exception:  # a library's bad format string must not hide the fault
            msg = str(record.msg)
        # The first line only: pika appends the caller's stack to some.
        self.lines.append("%s %s: %s" % (record.levelname, record.name, msg.split("\n")[0]))


collect = Collect()
logging.getLogger().addHandler(collect)
logging.getLogger().setLevel(logging.WARNING)


def ready():
    print("READY", flush=True)


def exc_line(e):
    return "".join(traceback.format_exception_only(type(e), e)).strip()


def emit(version, e=None, skipped=""):
    out = {"version": version, "raised": "", "text": "", "skipped": skipped}
    if e is not None:
        cls = type(e)
        out["raised"] = "%s.%s" % (cls.__module__, cls.__qualname__)
        out["text"] = exc_line(e)
        r = repr(e)
        if str(e) == "" or r != "%s(%r)" % (cls.__name__, str(e)):
            out["repr"] = r
        cause = e.__cause__ or e.__context__
        if cause is not None and not e.__suppress_context__ or e.__cause__ is not None:
            notes.append("raised from " + exc_line(cause))
    out["note"] = "; ".join(notes)
    out["client_log"] = collect.lines
    print(json.dumps(out), flush=True)


def deadline():
    return time.monotonic() + WAIT


# ---------------------------------------------------------------- pika

def run_pika(fault):
    import pika

    params = pika.ConnectionParameters(
        host=ENV["ZOO_HOST"], port=int(ENV["ZOO_PORT"]), virtual_host=ENV["ZOO_VHOST"],
        credentials=pika.PlainCredentials(ENV["ZOO_USER"], ENV["ZOO_PASS"]),
        heartbeat=HEARTBEAT or None, connection_attempts=1, socket_timeout=5,
        client_properties={"connection_name": ENV["ZOO_CONN_NAME"]})
    if fault in ("wrong-password", "missing-vhost", "vhost-refused", "refused-port"):
        pika.BlockingConnection(params).close()
        notes.append("connected without an error")
        return
    conn = pika.BlockingConnection(params)
    ch = conn.channel()
    q = ENV.get("ZOO_QUEUE", "")

    def publish_then_continue(exchange, key, body):
        ch.basic_publish(exchange, key, body)
        notes.append("basic_publish returned; the error surfaced on the next call")
        end = deadline()
        while time.monotonic() < end:
            conn.process_data_events(time_limit=0.5)
            ch.basic_publish(exchange, key, b"again")
        notes.append("no error within %ss" % WAIT)

    if fault in ("perm-queue", "exclusive-locked"):
        ch.queue_declare(q)
    elif fault == "inequivalent-args":
        ch.queue_declare(q, arguments={"x-message-ttl": int(ENV["ZOO_TTL"])})
    elif fault == "passive-missing-queue":
        ch.queue_declare(q, passive=True)
    elif fault == "perm-read":
        ch.basic_get(q)
    elif fault in ("perm-exchange", "perm-topic"):
        publish_then_continue(ENV["ZOO_EXCHANGE"], ENV["ZOO_ROUTING_KEY"], b"zoo")
    elif fault == "message-too-large":
        publish_then_continue("", ENV["ZOO_ROUTING_KEY"], b"\0" * int(ENV["ZOO_MSG_SIZE"]))
    elif fault == "unknown-delivery-tag":
        ch.basic_ack(int(ENV["ZOO_TAG"]))
        notes.append("basic_ack returned; the error surfaced on the next call")
        end = deadline()
        while time.monotonic() < end:
            conn.process_data_events(time_limit=0.5)
            ch.basic_qos(prefetch_count=1)
        notes.append("no error within %ss" % WAIT)
    elif fault == "consumer-ack-timeout":
        ch.basic_consume(q, lambda c, m, p, b: None, auto_ack=False)
        conn.call_later(WAIT, ch.stop_consuming)
        ch.start_consuming()
        notes.append("no error within %ss" % WAIT)
    elif fault == "channel-max":
        n = int(ENV["ZOO_CHANNELS"])
        for i in range(2, n + 1):
            try:
                conn.channel()
            except Exception:
                notes.append("opening channel %d of %d failed" % (i, n))
                raise
        notes.append("opened %d channels without an error" % n)
    elif fault == "publish-closed-channel":
        ch.close()
        ch.basic_publish("", ENV["ZOO_ROUTING_KEY"], b"zoo")
    elif fault in ("force-close", "broker-stop", "node-killed", "heartbeat-client", "heartbeat-broker"):
        ready()
        end = deadline()
        while time.monotonic() < end:
            conn.process_data_events(time_limit=1)
        notes.append("no error within %ss" % WAIT)
    else:
        raise Skip("unknown fault " + fault)


# ------------------------------------------------------------- py-amqp

def amqp_wait(conn, end, tick):
    """drain_events until end; on idle seconds call tick (heartbeats)."""
    while time.monotonic() < end:
        try:
            conn.drain_events(timeout=1)
        except socket.timeout:
            tick()
    notes.append("no error within %ss" % WAIT)




def run_amqp(fault):
    import amqp

    conn = amqp.Connection(
        host="%s:%s" % (ENV["ZOO_HOST"], ENV["ZOO_PORT"]), userid=ENV["ZOO_USER"], password=ENV["ZOO_PASS"],
        virtual_host=ENV["ZOO_VHOST"], heartbeat=HEARTBEAT, connect_timeout=5,
        client_properties={"connection_name": ENV["ZOO_CONN_NAME"]})
    conn.connect()
    if fault in ("wrong-password", "missing-vhost", "vhost-refused", "refused-port"):
        conn.close()
        notes.append("connected without an error")
        return
    ch = conn.channel()
    q = ENV.get("ZOO_QUEUE", "")
    tick = lambda: conn.heartbeat_tick()  # noqa: E731

    def publish_then_continue(exchange, key, body):
        ch.basic_publish(amqp.Message(body), exchange=exchange, routing_key=key)
        notes.append("basic_publish returned; the error surfaced in drain_events")
        amqp_wait(conn, deadline(), tick)

    if fault in ("perm-queue", "exclusive-locked"):
        ch.queue_declare(q, auto_delete=False)
    elif fault == "inequivalent-args":
        ch.queue_declare(q, auto_delete=False, arguments={"x-message-ttl": int(ENV["ZOO_TTL"])})
    elif fault == "passive-missing-queue":
        ch.queue_declare(q, passive=True)
    elif fault == "perm-read":
        ch.basic_get(q)
    elif fault in ("perm-exchange", "perm-topic"):
        publish_then_continue(ENV["ZOO_EXCHANGE"], ENV["ZOO_ROUTING_KEY"], b"zoo")
    elif fault == "message-too-large":
        publish_then_continue("", ENV["ZOO_ROUTING_KEY"], b"\0" * int(ENV["ZOO_MSG_SIZE"]))
    elif fault == "unknown-delivery-tag":
        ch.basic_ack(int(ENV["ZOO_TAG"]))
        notes.append("basic_ack returned; the error surfaced in drain_events")
        amqp_wait(conn, deadline(), tick)
    elif fault == "consumer-ack-timeout":
        ch.basic_consume(q, callback=lambda m: None, no_ack=False)
        amqp_wait(conn, deadline(), tick)
    elif fault == "channel-max":
        n = int(ENV["ZOO_CHANNELS"])
        for i in range(2, n + 1):
            try:
                conn.channel()
            except Exception:
                notes.append("opening channel %d of %d failed" % (i, n))
                raise
        notes.append("opened %d channels without an error" % n)
    elif fault == "publish-closed-channel":
        ch.close()
        ch.basic_publish(amqp.Message(b"zoo"), exchange="", routing_key=ENV["ZOO_ROUTING_KEY"])
    elif fault in ("force-close", "broker-stop", "node-killed", "heartbeat-client", "heartbeat-broker"):
        ready()
        amqp_wait(conn, deadline(), tick)
    else:
        raise Skip("unknown fault " + fault)


# --------------------------------------------------------------- kombu

def run_kombu(fault):
    import kombu

    conn = kombu.Connection(
        ENV["ZOO_URL"], heartbeat=HEARTBEAT or None, connect_timeout=5,
        transport_options={"client_properties": {"connection_name": ENV["ZOO_CONN_NAME"]}})
    conn.connect()
    if fault in ("wrong-password", "missing-vhost", "vhost-refused", "refused-port"):
        conn.release()
        notes.append("connected without an error")
        return
    ch = conn.channel()
    q = ENV.get("ZOO_QUEUE", "")

    def tick():
        conn.heartbeat_check()

    def publish_then_continue(exchange, key, body):
        kombu.Producer(ch).publish(body, exchange=exchange, routing_key=key)
        notes.append("Producer.publish returned; the error surfaced in drain_events")
        amqp_wait(conn, deadline(), tick)

    if fault in ("perm-queue", "exclusive-locked"):
        kombu.Queue(q, channel=ch, durable=False, auto_delete=False).declare()
    elif fault == "inequivalent-args":
        kombu.Queue(q, channel=ch, durable=False, auto_delete=False,
                    queue_arguments={"x-message-ttl": int(ENV["ZOO_TTL"])}).declare()
    elif fault == "passive-missing-queue":
        kombu.Queue(q, channel=ch).queue_declare(passive=True)
    elif fault == "perm-read":
        kombu.Queue(q, channel=ch, no_declare=True).get()
    elif fault in ("perm-exchange", "perm-topic"):
        publish_then_continue(ENV["ZOO_EXCHANGE"], ENV["ZOO_ROUTING_KEY"], b"zoo")
    elif fault == "message-too-large":
        publish_then_continue("", ENV["ZOO_ROUTING_KEY"], b"\0" * int(ENV["ZOO_MSG_SIZE"]))
    elif fault == "unknown-delivery-tag":
        ch.basic_ack(int(ENV["ZOO_TAG"]))
        notes.append("basic_ack returned; the error surfaced in drain_events")
        amqp_wait(conn, deadline(), tick)
    elif fault == "consumer-ack-timeout":
        queue = kombu.Queue(q, no_declare=True)
        with kombu.Consumer(ch, queues=[queue], callbacks=[lambda body, msg: None], no_ack=False, accept=None):
            amqp_wait(conn, deadline(), tick)
    elif fault == "channel-max":
        n = int(ENV["ZOO_CHANNELS"])
        for i in range(2, n + 1):
            try:
                conn.channel()
            except Exception:
                notes.append("opening channel %d of %d failed" % (i, n))
                raise
        notes.append("opened %d channels without an error" % n)
    elif fault == "publish-closed-channel":
        ch.close()
        kombu.Producer(ch).publish(b"zoo", exchange="", routing_key=ENV["ZOO_ROUTING_KEY"])
    elif fault in ("force-close", "broker-stop", "node-killed", "heartbeat-client", "heartbeat-broker"):
        ready()
        amqp_wait(conn, deadline(), tick)
    else:
        raise Skip("unknown fault " + fault)


def version():
    if LIB == "pika":
        import pika
        return pika.__version__
    if LIB == "py-amqp":
        import amqp
        return amqp.__version__
    import kombu
    return kombu.__version__


def main():
    fault = ENV["ZOO_FAULT"]
    run = {"pika": run_pika, "py-amqp": run_amqp, "kombu": run_kombu}[LIB]
    ver = version()
    try:
        run(fault)
    except Skip as s:
        emit(ver, skipped=str(s))
        return
    except Exception as e:  # what the application would log
        emit(ver, e)
        return
    emit(ver)


if __name__ == "__main__":
    main()
