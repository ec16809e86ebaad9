// The zoo's client for amqplib (Node.js). It provokes the fault named by
// $ZOO_FAULT (see zoo/README.md for the protocol), prints READY when it is
// connected and waiting for the driver, and ends with one JSON line whose
// text is String(err) (and code err.code) of what amqplib rejected with or
// emitted.
'use strict';
const amqp = require('amqplib');
const path = require('node:path');
const fs = require('node:fs');
// amqplib's "exports" hides its package.json: read it from disk.
const version = JSON.parse(
  fs.readFileSync(path.join(path.dirname(require.resolve('amqplib')), 'package.json'), 'utf8'),
).version;

const env = process.env;
const WAIT = Number(env.ZOO_WAIT || 45) * 1000;
const notes = [];

class Skip extends Error {}

function emit(err, skipped) {
  const out = { version, raised: '', text: '', skipped: skipped || '' };
  if (err) {
    out.raised = (err.constructor && err.constructor.name) || typeof err;
    out.text = String(err);
    if (err.code !== undefined) out.code = String(err.code);
  }
  out.note = notes.join('; ');
  process.stdout.write(JSON.stringify(out) + '\n', () => process.exit(0));
}

function url() {
  let u = env.ZOO_URL;
  if (Number(env.ZOO_HEARTBEAT || 0) > 0) u += '?heartbeat=' + env.ZOO_HEARTBEAT;
  return u;
}

function connect() {
  return amqp.connect(url(), { clientProperties: { connection_name: env.ZOO_CONN_NAME }, timeout: 5000 });
}

// waitFor resolves with the first error an emitter emits ('error', then
// 'close' with an error), or with null after WAIT.
function waitFor(emitter, what) {
  return new Promise((resolve) => {
    let settled = false;
    const settle = (e, note) => {
      if (settled) return;
      settled = true;
      clearTimeout(t);
      resolve({ err: e, note });
    };
    const t = setTimeout(() => settle(null, `no error within ${WAIT / 1000}s`), WAIT);
    emitter.on('error', (e) => settle(e, `emitted as the ${what}'s 'error' event`));
    emitter.on('close', (e) =>
      settle(
        e || null,
        e ? `emitted with the ${what}'s 'close' event (no 'error' event)` : `the ${what} emitted 'close' without an error`,
      ),
    );
  });
}

// outcome turns what waitFor resolved with into the run's result.
async function outcome(p) {
  const { err, note } = await p;
  notes.push(note);
  return err;
}

async function run(fault) {
  if (['wrong-password', 'missing-vhost', 'vhost-refused', 'refused-port'].includes(fault)) {
    const c = await connect();
    await c.close();
    notes.push('connected without an error');
    return null;
  }
  const conn = await connect();
  conn.on('error', () => {}); // handled per fault below; an unhandled 'error' event would crash the app
  const ch = await conn.createChannel();
  const chErr = waitFor(ch, 'channel');
  const q = env.ZOO_QUEUE || '';
  switch (fault) {
    case 'perm-queue':
    case 'exclusive-locked':
      await ch.assertQueue(q, { durable: false, autoDelete: false });
      return null;
    case 'inequivalent-args':
      await ch.assertQueue(q, { durable: false, autoDelete: false, arguments: { 'x-message-ttl': Number(env.ZOO_TTL) } });
      return null;
    case 'passive-missing-queue':
      await ch.checkQueue(q);
      return null;
    case 'perm-read':
      await ch.get(q, { noAck: false });
      return null;
    case 'perm-exchange':
    case 'perm-topic':
      ch.publish(env.ZOO_EXCHANGE, env.ZOO_ROUTING_KEY, Buffer.from('zoo'));
      notes.push('publish returned');
      return outcome(chErr);
    case 'message-too-large':
      ch.publish('', env.ZOO_ROUTING_KEY, Buffer.alloc(Number(env.ZOO_MSG_SIZE)));
      notes.push('publish returned');
      return outcome(chErr);
    case 'unknown-delivery-tag':
      ch.ack({ fields: { deliveryTag: Number(env.ZOO_TAG) } });
      notes.push('ack returned');
      return outcome(chErr);
    case 'consumer-ack-timeout':
      await ch.consume(q, () => {}, { noAck: false });
      return outcome(chErr);
    case 'channel-max': {
      const n = Number(env.ZOO_CHANNELS);
      for (let i = 2; i <= n; i++) {
        try {
          const c = await conn.createChannel();
          c.on('error', () => {});
        } catch (e) {
          notes.push(`opening channel ${i} of ${n} failed`);
          throw e;
        }
      }
      notes.push(`opened ${n} channels without an error`);
      return null;
    }
    case 'publish-closed-channel':
      await ch.close();
      ch.publish('', env.ZOO_ROUTING_KEY, Buffer.from('zoo'));
      return null;
    case 'force-close':
    case 'broker-stop':
    case 'node-killed':
    case 'heartbeat-client':
    case 'heartbeat-broker': {
      const connErr = waitFor(conn, 'connection');
      process.stdout.write('READY\n');
      return outcome(connErr);
    }
  }
  throw new Skip('unknown fault ' + fault);
}

run(env.ZOO_FAULT).then(
  (err) => emit(err),
  (err) => (err instanceof Skip ? emit(null, err.message) : emit(err)),
);
